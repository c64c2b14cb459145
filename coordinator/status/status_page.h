// The coordinator's live status page, as three static files served by StatusService:
//   StatusPageHtml()    "/"            the document; no inline script or style
//   StatusPageScript()  "/status.js"   polls /api/run and /api/rounds every 2 s and redraws;
//                                      lists the jobs of /api/jobs when the endpoint has them
//                                      (a long-lived coordinator); on /jobs/<id> shows that job
//                                      from /api/jobs/<id> instead (polled until it has ended)
//   StatusPageStyle()   "/status.css"
// The script builds every element with DOM APIs (createElement, textContent, setAttribute)
// and never parses data as HTML, so a site id, refusal reason, job name or job outcome is always
// text (links are made only to /jobs/ + an id matching job-NNNN); together with
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
