// The coordinator's live status page: one self-contained HTML document (inline CSS, JavaScript
// and SVG; nothing loaded from elsewhere) that polls /api/run and /api/rounds and redraws
// itself. A ?token=... in the page's address is passed on to the API calls.
// Thread-safety: a constant. Ownership: static storage.
#pragma once

namespace fedsmear {

const char* StatusPageHtml();

}  // namespace fedsmear
