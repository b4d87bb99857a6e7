/** Loading a screen's data with hono/jsx/dom hooks: the answer, the failure, a reload. */
import { useCallback, useEffect, useState } from "hono/jsx/dom";
import { callApi, errorText } from "./request.ts";

export interface Resource<T> {
  /** The last answer; undefined until the first one arrives (or when it failed). */
  data: T | undefined;
  /** Why the last load failed (a 403 included: the server is authoritative), or "". */
  error: string;
  /** Loads again, after a change. */
  reload(): void;
}

/** `GET path` when the component mounts and on every `reload()`. */
export function useResource<T>(path: string): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState("");
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let current = true;
    callApi<T>("GET", path).then(
      (answer) => {
        if (!current) return;
        setData(answer);
        setError("");
      },
      (err: unknown) => {
        if (!current) return;
        setData(undefined);
        setError(errorText(err));
      },
    );
    // A reload or a new path makes an answer still in flight stale.
    return () => {
      current = false;
    };
  }, [path, version]); // `version` changes on reload()
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  return { data, error, reload };
}
