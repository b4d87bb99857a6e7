/**
 * The widget's stylesheet. It is adopted as a constructed stylesheet because a `<style>`
 * element would be blocked by a host page whose CSP forbids inline styles; the `<style>`
 * fallback is only for browsers without `adoptedStyleSheets`. The page may theme the widget
 * with the inherited custom property `--parley-accent`.
 */
import { h } from "../client/dom.ts";

const CSS = `
:host{all:initial;position:fixed;right:20px;bottom:20px;z-index:2147483000;color:#1d2330;
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;--a:var(--parley-accent,#2f5bea)}
*{box-sizing:border-box;font:inherit;color:inherit}
[hidden]{display:none!important}
button{cursor:pointer;border:0;border-radius:8px;padding:8px 14px;background:var(--a);color:#fff;font-weight:600}
button:disabled{opacity:.5;cursor:default}
button:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #ffbf47;outline-offset:1px}
.launcher{float:right;border-radius:24px;padding:12px 20px;box-shadow:0 4px 14px rgba(0,0,0,.25)}
.panel{position:absolute;right:0;bottom:60px;width:min(360px,calc(100vw - 40px));height:min(540px,calc(100vh - 100px));
display:flex;flex-direction:column;background:#fff;border-radius:12px;box-shadow:0 10px 40px rgba(0,0,0,.25);overflow:hidden}
header{display:flex;align-items:center;justify-content:space-between;background:var(--a);color:#fff;padding:10px 14px}
h2{margin:0;font-size:16px;font-weight:600}
header button{background:none;font-size:20px;line-height:1;padding:4px 8px}
.body{flex:1;display:flex;flex-direction:column;min-height:0;padding:14px;gap:10px;overflow:auto}
.view{display:flex;flex-direction:column;gap:10px;flex:1;min-height:0}
form{display:flex;flex-direction:column;gap:10px}
label{display:flex;flex-direction:column;gap:4px;font-weight:600}
input,textarea{font-weight:400;border:1px solid #aab1c0;border-radius:8px;padding:8px;background:#fff;width:100%}
textarea{resize:none}
.hint{font-weight:400;color:#59627a}
.err{color:#b3261e;margin:0}
.note{margin:0;color:#59627a}
.log{flex:1;overflow-y:auto;display:flex;flex-direction:column;gap:8px;min-height:0}
.msg{max-width:85%;padding:8px 10px;border-radius:10px;background:#eef1f7;align-self:flex-start;white-space:pre-wrap;overflow-wrap:anywhere}
.own{align-self:flex-end;background:#dde6ff}
.pending{opacity:.6}
.msg-system{align-self:center;background:none;color:#59627a;font-size:12px}
.meta{display:block;font-size:11px;color:#59627a}
.bar{flex-direction:row;gap:8px;align-items:flex-end}
.bar textarea{flex:1}
.forms{display:flex;flex-direction:column;flex-shrink:0;max-height:65%;min-height:0}
.forms:empty{display:none}
.secure{min-height:0;overflow:auto;display:flex;flex-direction:column;gap:8px;padding:10px;border:2px solid #1a7f37;border-radius:10px;background:#f3faf5}
.secure h3{margin:0;font-size:15px;font-weight:600;color:#14532d}
.secure p{margin:0}
.lock{display:inline-block;position:relative;width:11px;height:8px;margin:0 8px 0 2px;border-radius:2px;background:currentColor}
.lock::before{content:"";position:absolute;left:2px;bottom:7px;width:7px;height:6px;box-sizing:border-box;border:2px solid currentColor;border-bottom:0;border-radius:4px 4px 0 0}
.secure form,.field{gap:6px}.field{display:flex;flex-direction:column}
[aria-invalid=true]{border-color:#b3261e}
.link{background:none;color:var(--a);padding:4px 0;align-self:flex-start}
@media (max-width:480px){:host{right:10px;bottom:10px}.panel{width:calc(100vw - 20px);height:calc(100vh - 80px)}}
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
