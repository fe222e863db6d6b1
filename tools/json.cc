#include "tools/json.h"

namespace raftlog::tools {

std::string DumpJson(const Json& j, bool pretty) {
  return j.dump(pretty ? 2 : -1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

}  // namespace raftlog::tools
