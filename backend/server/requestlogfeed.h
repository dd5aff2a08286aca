#pragma once

#include "../http/router.h"
#include "../store/requestlog.h"

namespace Outpost {

// The request log's row for an answered request, as the server's ResponseObserver sees it on the
// network thread. Copies only implicitly shared values: no allocation.
Store::RequestEntry requestLogEntry(const Http::ResponseRecord &record);

} // namespace Outpost
