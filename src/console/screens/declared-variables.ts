/** The declared custom variables, for the forms that offer them (segments, campaigns). */
import { useEffect, useState } from "hono/jsx/dom";
import type { VariableDeclaration, VariableListResponse } from "../../protocol/variables.ts";
import { callApi } from "./request.ts";

/**
 * The declared custom variables when this admin may read them (`variables.manage`), else
 * null. They only help (names offered, typed values); a failed load leaves the form as it is
 * without them, and the server still checks every name.
 */
export function useDeclaredVariables(canRead: boolean): VariableDeclaration[] | null {
  const [declared, setDeclared] = useState<VariableDeclaration[] | null>(null);
  useEffect(() => {
    if (!canRead) return;
    let current = true;
    callApi<VariableListResponse>("GET", "/api/variables").then(
      (answer) => current && setDeclared(answer.variables),
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [canRead]);
  return declared;
}
