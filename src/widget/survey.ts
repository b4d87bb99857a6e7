/**
 * The post-chat survey: a rating from 1 to 5 and an optional comment, offered once the chat
 * is over (when the campaign enables it and an agent took the chat: the server refuses to
 * rate a chat nobody answered). Answered once; it then becomes a thank-you note.
 */
import { h } from "../client/dom.ts";
import { asyncForm, field, thank } from "./forms.ts";
import { t } from "./strings.ts";

/** The survey form; `send` posts the answer (its rejection is shown in the form). */
export function surveyForm(send: (rating: number, comment: string) => Promise<void>): HTMLElement {
  // A native select: keyboard and screen-reader support for free, and no styling to ship.
  const rating = h(
    "select",
    { required: true, "data-testid": "parley-survey-rating" },
    h("option", { value: "" }, "\u2014"),
    ...[5, 4, 3, 2, 1].map((n) => h("option", { value: n }, t.rating(n))),
  );
  const comment = h("textarea", {
    rows: 2,
    maxlength: 1000,
    "data-testid": "parley-survey-comment",
  });
  const view = h("div", { "data-testid": "parley-survey" });
  view.append(
    asyncForm(
      t.surveyTitle,
      [
        h("p", null, t.surveyTitle),
        field(t.ratingLabel, rating),
        field(t.comment, comment, true),
        h("button", { type: "submit", "data-testid": "parley-survey-send" }, t.surveySend),
      ],
      async () => {
        await send(Number(rating.value), comment.value.trim());
        thank(view, "parley-survey-thanks", t.surveyThanks);
      },
    ),
  );
  return view;
}
