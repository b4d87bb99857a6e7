/**
 * Every text the visitor sees, in one table per language. English is the default; the
 * embedding tag's `data-lang` (or the page's `<html lang>`) picks another. A campaign's own
 * texts (title, greeting, offline form) replace these when the page has a campaign: the site
 * wrote them in its visitors' language.
 *
 * Kept free of DOM types so the completeness test runs in Node.
 */

const en = {
  title: "Chat with us",
  minimize: "Minimize chat",
  unread: (n: number) => `${n} new message${n === 1 ? "" : "s"}`,
  greeting: "Questions? We're here to help.",
  startForm: "Start a chat",
  name: "Name",
  email: "Email",
  department: "Department",
  online: (name: string) => `${name} \u2014 online`,
  offline: (name: string) => `${name} (offline)`,
  invitation: "Invitation to chat",
  accept: "Chat now",
  decline: "No thanks",
  optional: "optional",
  checking: "Checking you're not a robot…",
  start: "Start chat",
  offlineTitle: "Leave a message",
  offlineMessage: "Nobody is available right now. Leave a message and we'll email you.",
  opensAt: (time: string) => `We open again on ${time}.`,
  message: "Message",
  sendMessage: "Send message",
  thanks: "Thank you! We received your message and will reply by email.",
  failed: "Something went wrong.",
  captchaUnsupported: "Chat is unavailable on this page. Please contact us another way.",
  messages: "Messages",
  typing: "Agent is typing…",
  placeholder: "Type your message…",
  send: "Send",
  composer: "Send a message",
  end: "End chat",
  newChat: "Start a new chat",
  you: "You",
  agent: "Agent",
  system: "Parley",
  ended: "Chat ended",
  joined: (name: string) => `${name} joined the chat`,
  anAgent: "An agent",
  connecting: "Connecting…",
  reconnecting: "Connection lost. Reconnecting…",
  queue: (n: number) => `You are number ${n} in the queue`,
  sending: "Sending…",
  delivered: "Delivered",
  notConnected: "Not connected. Try again in a moment.",
  gone: "This chat is no longer available.",
  sound: "Sound",
  download: "Download transcript",
  surveyTitle: "How was your chat?",
  ratingLabel: "Rating",
  rating: (n: number) => `${n} of 5`,
  comment: "Comment",
  surveySend: "Send feedback",
  surveyThanks: "Thank you for your feedback!",
  secureTitle: "Secure payment form",
  secureNote:
    "Only the agent sees these details. They are never stored and are deleted when the chat ends.",
  secureSend: "Send securely",
  secureSubmitted: "Secure form submitted",
  secureAgain: "Your details were not received. Please enter them again.",
  secureDone: "This form was already submitted.",
  secureCleared: "For your security the fields were cleared. Please enter them again.",
  checkThis: "Please check this.",
  p_required: "Please fill this in.",
  p_invalid_card_number: "This card number is not valid.",
  p_invalid_expiry: "Enter the expiry date as MM/YY.",
  p_expired: "This card has expired.",
  p_invalid_security_code: "Check the security code: 3 digits, or 4 for American Express.",
  p_invalid_text: "Use up to 200 characters, on one line.",
};

/** One language's texts: the English table's keys, each of the same kind. */
export type Strings = typeof en;

/** The keys of secure-form problems: `p_` and the problem code (SecureFieldProblem). */
export type ProblemKey = Extract<keyof Strings, `p_${string}`>;

const fr: Strings = {
  title: "Discutez avec nous",
  minimize: "Réduire la discussion",
  unread: (n) => `${n} nouveau${n === 1 ? "" : "x"} message${n === 1 ? "" : "s"}`,
  greeting: "Une question\u00a0? Nous sommes là pour vous aider.",
  startForm: "Démarrer une discussion",
  name: "Nom",
  email: "E-mail",
  department: "Service",
  online: (name) => `${name} \u2014 en ligne`,
  offline: (name) => `${name} (hors ligne)`,
  invitation: "Invitation à discuter",
  accept: "Discuter",
  decline: "Non merci",
  optional: "facultatif",
  checking: "Vérification anti-robot…",
  start: "Démarrer",
  offlineTitle: "Laisser un message",
  offlineMessage: "Personne n'est disponible. Laissez un message, nous répondrons par e-mail.",
  opensAt: (time) => `Nous rouvrons le ${time}.`,
  message: "Message",
  sendMessage: "Envoyer le message",
  thanks: "Merci\u00a0! Message reçu, nous répondrons par e-mail.",
  failed: "Une erreur s'est produite.",
  captchaUnsupported: "Discussion indisponible sur cette page. Contactez-nous autrement.",
  messages: "Messages",
  typing: "L'agent écrit…",
  placeholder: "Écrivez votre message…",
  send: "Envoyer",
  composer: "Envoyer un message",
  end: "Terminer",
  newChat: "Nouvelle discussion",
  you: "Vous",
  agent: "Agent",
  system: "Parley",
  ended: "Discussion terminée",
  joined: (name) => `${name} a rejoint la discussion`,
  anAgent: "Un agent",
  connecting: "Connexion…",
  reconnecting: "Connexion perdue. Reconnexion…",
  queue: (n) => `Vous êtes en position ${n} dans la file`,
  sending: "Envoi…",
  delivered: "Remis",
  notConnected: "Pas de connexion. Réessayez dans un instant.",
  gone: "Cette discussion n'est plus disponible.",
  sound: "Son",
  download: "Télécharger la transcription",
  surveyTitle: "Comment s'est passée la discussion\u00a0?",
  ratingLabel: "Note",
  rating: (n) => `${n} sur 5`,
  comment: "Commentaire",
  surveySend: "Envoyer l'avis",
  surveyThanks: "Merci pour votre avis\u00a0!",
  secureTitle: "Formulaire de paiement sécurisé",
  secureNote:
    "Seul l'agent voit ces données. Jamais conservées, elles sont effacées en fin de discussion.",
  secureSend: "Envoyer en sécurité",
  secureSubmitted: "Formulaire sécurisé envoyé",
  secureAgain: "Données non reçues. Saisissez-les à nouveau.",
  secureDone: "Ce formulaire a déjà été envoyé.",
  secureCleared: "Par sécurité, les champs ont été vidés. Saisissez-les à nouveau.",
  checkThis: "Veuillez vérifier ce champ.",
  p_required: "Veuillez remplir ce champ.",
  p_invalid_card_number: "Ce numéro de carte n'est pas valide.",
  p_invalid_expiry: "Saisissez la date d'expiration au format MM/AA.",
  p_expired: "Cette carte a expiré.",
  p_invalid_security_code: "Code de sécurité\u00a0: 3 chiffres, ou 4 pour American Express.",
  p_invalid_text: "200 caractères au plus, sur une ligne.",
};

/** Every language the widget speaks, by primary language subtag. */
export const LANGUAGES: Record<string, Strings> = { en, fr };

/**
 * The texts in use. A shared object rather than a parameter threaded through every view:
 * the language is chosen once, before anything renders (`useLanguage`).
 */
export const t: Strings = { ...en };

/**
 * Switches to the language of a BCP 47 tag (`fr`, `fr-CA`); unknown or missing tags keep
 * English.
 */
export function useLanguage(tag = ""): void {
  // English first: a tag that names no table (even an Object property) leaves English.
  Object.assign(t, en, LANGUAGES[tag.toLowerCase().split("-")[0] as string]);
}
