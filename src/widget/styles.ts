/**
 * The widget's stylesheet. It is adopted as a constructed stylesheet because a `<style>`
 * element would be blocked by a host page whose CSP forbids inline styles; the `<style>`
 * fallback is only for browsers without `adoptedStyleSheets`. The page may theme the widget
 * with the inherited custom property `--parley-accent`. The host element sits in the page's
 * DOM, where a hostile rule such as `div{display:none!important}` reaches it; for important
 * declarations the shadow tree's own win the cascade, so `:host` marks its layout important.
 */
import { h } from "../client/dom.ts";

const CSS = `
:host{all:initial!important;display:block!important;visibility:visible!important;position:fixed!important;right:20px!important;bottom:20px!important;z-index:2147483000!important;color:#1d2330;font:14px/1.45 system-ui,sans-serif;--a:var(--parley-accent,var(--c,#2f5bea))}
:host(.left){right:auto!important;left:20px!important}
*{box-sizing:border-box;font:inherit;color:inherit;margin:0}
[hidden]{display:none!important}
button{cursor:pointer;border:0;border-radius:8px;padding:8px 14px;background:var(--a);color:#fff;font-weight:600}
button:disabled{opacity:.5}
.pending{opacity:.7}
[aria-pressed=false]{text-decoration:line-through}
:focus-visible{outline:3px solid #fb4}
.launcher{border-radius:24px;padding:12px 20px;box-shadow:0 4px 14px #0004}
.badge{margin-left:8px;padding:0 6px;border-radius:9px;background:#b3261e}
.panel,.invite{position:absolute;right:0;bottom:60px;width:min(360px,calc(100vw - 40px));background:#fff;border-radius:12px;box-shadow:0 8px 40px #0004}
.panel{height:min(540px,calc(100vh - 100px));overflow:hidden}
.invite{padding:14px}
:host(.left) :is(.panel,.invite){right:auto;left:0}
.panel,.invite,.body,.view,form,.secure,label,.log{display:flex;flex-direction:column;gap:10px;min-height:0}
.panel{gap:0}
header{display:flex;background:var(--a);color:#fff;padding:10px 14px}
h2{margin-right:auto;font-size:16px}
header button{background:none;padding:0 8px}
.body,.view,.log{flex:1;overflow:auto}
.body{padding:14px}
label,h3{font-weight:600}
input,textarea,select{font-weight:400;border:1px solid #aab1c0;border-radius:8px;padding:8px;background:#fff;width:100%;resize:none}
.note,.meta,.hint,.msg-system{font-weight:400;color:#59627a}
.err{color:#b3261e}
.log{scroll-behavior:smooth}
.msg{max-width:85%;padding:8px 10px;border-radius:10px;background:#eef1f7;align-self:flex-start;white-space:pre-wrap;overflow-wrap:anywhere}
.own{align-self:flex-end;background:#dde6ff}
.msg-system{align-self:center;background:none;font-size:12px}
.meta{display:block;font-size:11px}
.bar,.links{display:flex;flex-direction:row;gap:12px;align-items:end}
.forms{flex-shrink:0;max-height:65%;display:flex}
.forms:empty{display:none}
.secure{overflow:auto;gap:8px;padding:10px;border:2px solid #1a7f37;border-radius:10px;background:#f3faf5}
h3{color:#14532d}
[aria-invalid=true]{border-color:#b3261e}
.link{background:none;color:var(--a);padding:4px 0;align-self:start}
.sr{position:absolute;clip-path:inset(50%)}
@media (prefers-reduced-motion:reduce){.log{scroll-behavior:auto}}
@media (max-width:480px){:host{right:10px!important;bottom:10px!important}.panel{width:calc(100vw - 20px);height:calc(100vh - 80px)}}
`;

/** Applies the widget stylesheet to its shadow root. */
export function adoptStyles(root: ShadowRoot): void {
  if ("adoptedStyleSheets" in root && "replaceSync" in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.append(h("style", null, CSS));
  }
}
