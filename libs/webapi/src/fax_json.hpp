#pragma once
// Internal to libs/webapi: the API's fax objects live in libs/apijson (shared with the
// webhook bodies of libs/webhook); the endpoint files keep calling them unqualified.
#include "faxbridge/apijson/fax_json.hpp"

namespace faxbridge::webapi {

using apijson::attempt_json;
using apijson::fax_json;
using apijson::fax_page_json;
using apijson::faxes_json;
using apijson::file_json;
using apijson::inbox_fax_json;
using apijson::kPriorityHigh;
using apijson::kPriorityLow;
using apijson::kPriorityNormal;
using apijson::priority_name;
using apijson::priority_value;

}  // namespace faxbridge::webapi
