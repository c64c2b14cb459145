// The coordinator's live status page, as three static files served by StatusService:
//   StatusPageHtml()    "/"            the document; no inline script or style
//   StatusPageScript()  "/status.js"   polls /api/run and /api/rounds every 2 s and redraws
//   StatusPageStyle()   "/status.css"
// The script builds every element with DOM APIs (createElement, textContent, setAttribute)
// and never parses data as HTML, so a site id or refusal reason is always text; together with
// the server's Content-Security-Policy (script-src 'self', no inline script) a hostile string
// cannot run script in the reader's browser. The page loads nothing from elsewhere and sends
// no token itself: the browser presents the HttpOnly login cookie on its same-origin fetches.
// Thread-safety: constant strings. Ownership: static storage.
#pragma once

namespace fedsmear {

const char* StatusPageHtml();
const char* StatusPageScript();
const char* StatusPageStyle();

}  // namespace fedsmear
