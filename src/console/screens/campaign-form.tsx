/**
 * The form editor of a campaign (`campaigns.tsx`): its name, whether it is on, its priority,
 * its pages, the widget's look and texts, the pre-chat form, the survey and the automatic
 * invitation, so an administrator never has to write the campaign's JSON. What a campaign
 * leaves unset is the built-in default, and the form shows that default where it can. It only
 * shapes the body: the server validates it, and its 400 names the field that is wrong.
 */
import {
  CHAT_START_KEYS,
  DEFAULT_AUTO_INVITE,
  DEFAULT_PRE_CHAT_FORM,
  DEFAULT_WIDGET,
} from "../../protocol/campaign-defaults.ts";
// Types only from the protocol's schemas: the console must not bundle zod.
import type { AutoInvite, PreChatForm, UrlRule, WidgetLook } from "../../protocol/campaigns.ts";
import { MAX_PRE_CHAT_FIELDS } from "../../protocol/limits.ts";
import type { VariableDeclaration } from "../../protocol/variables.ts";
import { useDeclaredVariables } from "./declared-variables.ts";
import type { DocumentFormProps } from "./json-documents.tsx";
import { inputValue, Options, UrlRulesEditor } from "./url-rules-editor.tsx";

/** A campaign as the editor holds it (`PUT /api/campaigns/:id`'s body). */
interface CampaignBody {
  name: string;
  enabled: boolean;
  priority: number;
  urlRules: UrlRule[];
  widget: Partial<WidgetLook>;
  preChatForm: PreChatForm | null;
  survey: boolean | null;
  autoInvite: AutoInvite | null;
}

type WidgetText = Exclude<keyof WidgetLook, "color" | "position">;
const WIDGET_TEXTS: [WidgetText, string][] = [
  ["title", "Title"],
  ["launcherLabel", "Launcher label"],
  ["greeting", "Greeting"],
  ["offlineTitle", "Offline title"],
  ["offlineMessage", "Offline message"],
];

const checked = (e: Event) => (e.target as HTMLInputElement).checked;
/** A typed number; an empty or non-numeric entry is sent as is and refused by the server. */
const numberOf = (text: string) => (text.trim() === "" ? Number.NaN : Number(text));

/** The widget's look: each field empty means the default, shown as the placeholder. */
function WidgetFields(props: {
  widget: Partial<WidgetLook>;
  onChange(w: Partial<WidgetLook>): void;
}) {
  const { widget, onChange } = props;
  const set = <K extends keyof WidgetLook>(key: K, value: WidgetLook[K] | "") => {
    const { [key]: _old, ...rest } = widget;
    onChange(value === "" ? rest : { ...rest, [key]: value });
  };
  return (
    <fieldset class="form-section">
      <legend>Widget (empty: the default)</legend>
      <label>
        Colour (#rrggbb)
        <input
          data-testid="campaign-color"
          value={widget.color ?? ""}
          placeholder={DEFAULT_WIDGET.color}
          onInput={(e: Event) => set("color", inputValue(e).trim())}
        />
      </label>
      <label>
        Position
        <select
          data-testid="campaign-position"
          onChange={(e: Event) => set("position", inputValue(e) as WidgetLook["position"] | "")}
        >
          <Options
            choices={[
              ["", `default (${DEFAULT_WIDGET.position})`],
              ["right", "bottom right"],
              ["left", "bottom left"],
            ]}
            selected={widget.position ?? ""}
          />
        </select>
      </label>
      {WIDGET_TEXTS.map(([key, label]) => (
        <label key={key}>
          {label}
          <input
            data-testid={`campaign-${key}`}
            value={widget[key] ?? ""}
            placeholder={DEFAULT_WIDGET[key]}
            onInput={(e: Event) => set(key, inputValue(e))}
          />
        </label>
      ))}
    </fieldset>
  );
}

/**
 * The pre-chat form: the built-in one, or this campaign's fields. Keys are offered from the
 * chat start's own and the declared variables (with their type: the server takes only those
 * that hold text).
 */
function PreChatFields(props: {
  form: PreChatForm | null;
  declared: VariableDeclaration[] | null;
  onChange(f: PreChatForm | null): void;
}) {
  const { form, declared, onChange } = props;
  const setField = (index: number, field: PreChatForm["fields"][number] | null) =>
    form &&
    onChange({
      ...form,
      fields: form.fields.flatMap((f, i) => (i !== index ? [f] : field ? [field] : [])),
    });
  return (
    <fieldset class="form-section">
      <legend>Pre-chat form</legend>
      <label>
        Form
        <select
          data-testid="campaign-prechat"
          onChange={(e: Event) =>
            onChange(inputValue(e) === "custom" ? structuredClone(DEFAULT_PRE_CHAT_FORM) : null)
          }
        >
          <Options
            choices={[
              ["default", "the default (name and email, both optional)"],
              ["custom", "this campaign's"],
            ]}
            selected={form ? "custom" : "default"}
          />
        </select>
      </label>
      {form ? (
        <>
          <label class="check">
            <input
              type="checkbox"
              data-testid="campaign-prechat-enabled"
              checked={form.enabled}
              onChange={(e: Event) => onChange({ ...form, enabled: checked(e) })}
            />
            Ask these before the chat starts
          </label>
          {form.fields.map((field, index) => (
            <div class="url-rule" key={String(index)}>
              <label>
                Key (name, email, department or a custom variable)
                <input
                  data-testid={`campaign-prechat-key-${index}`}
                  value={field.key}
                  list="campaign-prechat-keys"
                  onInput={(e: Event) => setField(index, { ...field, key: inputValue(e) })}
                />
              </label>
              <label class="condition-text">
                Label
                <input
                  data-testid={`campaign-prechat-label-${index}`}
                  value={field.label}
                  onInput={(e: Event) => setField(index, { ...field, label: inputValue(e) })}
                />
              </label>
              <label class="check">
                <input
                  type="checkbox"
                  data-testid={`campaign-prechat-required-${index}`}
                  checked={field.required}
                  onChange={(e: Event) => setField(index, { ...field, required: checked(e) })}
                />
                Required
              </label>
              <button
                type="button"
                class="secondary"
                data-testid={`campaign-prechat-remove-${index}`}
                aria-label={`Remove pre-chat field ${index + 1}`}
                onClick={() => setField(index, null)}
              >
                Remove
              </button>
            </div>
          ))}
          <datalist id="campaign-prechat-keys">
            {CHAT_START_KEYS.map((key) => (
              <option key={key} value={key} />
            ))}
            {(declared ?? []).map((v) => (
              <option key={v.name} value={v.name}>
                {`${v.label} (${v.type})`}
              </option>
            ))}
          </datalist>
          <button
            type="button"
            class="secondary add-row"
            data-testid="campaign-prechat-add"
            disabled={form.fields.length >= MAX_PRE_CHAT_FIELDS}
            onClick={() =>
              onChange({
                ...form,
                fields: [...form.fields, { key: "", label: "", required: false }],
              })
            }
          >
            Add a field
          </button>
        </>
      ) : null}
    </fieldset>
  );
}

/** The automatic invitation: none (the default), or this campaign's. */
function AutoInviteFields(props: {
  invite: AutoInvite | null;
  onChange(i: AutoInvite | null): void;
}) {
  const { invite, onChange } = props;
  const fresh = (): AutoInvite => {
    const { enabled: _off, ...texts } = DEFAULT_AUTO_INVITE;
    return { ...texts, enabled: true, urlRules: [] };
  };
  return (
    <fieldset class="form-section">
      <legend>Automatic invitation</legend>
      <label>
        Invitation
        <select
          data-testid="campaign-invite"
          onChange={(e: Event) => onChange(inputValue(e) === "custom" ? fresh() : null)}
        >
          <Options
            choices={[
              ["default", "none (the default)"],
              ["custom", "this campaign's"],
            ]}
            selected={invite ? "custom" : "default"}
          />
        </select>
      </label>
      {invite ? (
        <>
          <label class="check">
            <input
              type="checkbox"
              data-testid="campaign-invite-enabled"
              checked={invite.enabled}
              onChange={(e: Event) => onChange({ ...invite, enabled: checked(e) })}
            />
            Invite visitors
          </label>
          <label>
            After this many seconds on the page (5–3600)
            <input
              type="number"
              min={5}
              max={3600}
              data-testid="campaign-invite-after"
              value={String(invite.afterSeconds)}
              onChange={(e: Event) =>
                onChange({ ...invite, afterSeconds: numberOf(inputValue(e)) })
              }
            />
          </label>
          <label>
            Message
            <input
              data-testid="campaign-invite-message"
              value={invite.message}
              onInput={(e: Event) => onChange({ ...invite, message: inputValue(e) })}
            />
          </label>
          <UrlRulesEditor
            legend="Invite on these pages"
            emptyMeans="every page of the campaign"
            rules={invite.urlRules}
            onChange={(urlRules) => onChange({ ...invite, urlRules })}
            testId="campaign-invite-pages"
          />
        </>
      ) : null}
    </fieldset>
  );
}

export interface CampaignFormProps extends DocumentFormProps {
  /** The admin holds `variables.manage`, so the declared variables can be offered. */
  canReadVariables: boolean;
}

/** The campaign editor's form (see the module comment). */
export function CampaignForm({ value, onChange, canReadVariables }: CampaignFormProps) {
  const declared = useDeclaredVariables(canReadVariables);
  const campaign = value as CampaignBody;
  const set = (change: Partial<CampaignBody>) => onChange({ ...campaign, ...change });
  return (
    <div class="document-form" data-testid="campaign-form">
      <label>
        Name
        <input
          data-testid="campaign-name"
          value={campaign.name}
          onInput={(e: Event) => set({ name: inputValue(e) })}
        />
      </label>
      <label class="check">
        <input
          type="checkbox"
          data-testid="campaign-enabled"
          checked={campaign.enabled}
          onChange={(e: Event) => set({ enabled: checked(e) })}
        />
        On (the widget uses it on its pages)
      </label>
      <label>
        Priority (the lowest applies where several match)
        <input
          type="number"
          min={0}
          data-testid="campaign-priority"
          value={String(campaign.priority)}
          onChange={(e: Event) => set({ priority: numberOf(inputValue(e)) })}
        />
      </label>
      <UrlRulesEditor
        legend="Pages"
        emptyMeans="every page"
        rules={campaign.urlRules}
        onChange={(urlRules) => set({ urlRules })}
        testId="campaign-pages"
      />
      <WidgetFields widget={campaign.widget} onChange={(widget) => set({ widget })} />
      <PreChatFields
        form={campaign.preChatForm}
        declared={declared}
        onChange={(preChatForm) => set({ preChatForm })}
      />
      <fieldset class="form-section">
        <legend>Survey after the chat</legend>
        <label>
          Survey
          <select
            data-testid="campaign-survey"
            onChange={(e: Event) => {
              const choice = inputValue(e);
              set({ survey: choice === "default" ? null : choice === "on" });
            }}
          >
            <Options
              choices={[
                ["default", "the default (offered)"],
                ["on", "offered"],
                ["off", "not offered"],
              ]}
              selected={campaign.survey === null ? "default" : campaign.survey ? "on" : "off"}
            />
          </select>
        </label>
      </fieldset>
      <AutoInviteFields
        invite={campaign.autoInvite}
        onChange={(autoInvite) => set({ autoInvite })}
      />
    </div>
  );
}
