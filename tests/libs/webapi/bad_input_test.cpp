// Bad input, everywhere: each JSON operation of the table is sent its valid body with,
// in turn, every string field replaced by hostile text (SQL, path traversal, markup,
// control characters, 100,000 characters), every field given each wrong JSON type, an
// unknown field added, and the body cut short; path parameters get traversal and SQL
// strings. Every answer must be a described reply (the ApiClient validates it), never a
// 5xx, errors as problem+json; and after each sweep the service still serves.
// The table holds one valid request per operation that takes a JSON body; the endpoints'
// own tests check what each valid request does. Query parameters are swept from the
// document itself: every GET operation's documented parameters get hostile strings and
// values of the wrong type, and every list (an operationId `list...`/`adminList...`) an
// unknown parameter, which it must refuse naming it.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <regex>

#include "faxbridge/core/password.hpp"
#include "faxbridge/db/auth.hpp"
#include "faxbridge/db/documents.hpp"
#include "faxbridge/db/testing/pg_cluster.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/testing/api_client.hpp"
#include "faxbridge/webapi/web_api.hpp"
#include "webapi_fixture.hpp"

namespace faxbridge::webapi {
namespace {

using nlohmann::json;
constexpr const char* kPassword = "sweep password 1";

const std::vector<std::string>& hostile_strings() {
  static const std::vector<std::string> strings = {
      "' OR '1'='1",
      "'; DROP TABLE users; --",
      "\") OR 1=1; --",
      "../../../../etc/passwd",
      "..\\..\\..\\windows\\win.ini",
      "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      "/dev/zero",
      "<script>alert(1)</script>",
      "{{7*7}}${7*7}",
      std::string("nul\0byte", 8),
      "\x1b[31mred\x1b[0m\r\nInjected: header",
      "\xe2\x80\xae" "txt.exe",  // right-to-left override
      std::string(100000, 'a'),
      "",
      " ",
  };
  return strings;
}

// Every wrong JSON type for a value of the given one.
std::vector<json> wrong_types(const json& v) {
  std::vector<json> all = {json(nullptr), json(true), json(12345), json(-1.5), json("text"),
                           json::array({1, 2}), json::object({{"a", 1}})};
  std::vector<json> out;
  for (auto& w : all) {
    if (w.type() != v.type() && !(w.is_number() && v.is_number())) out.push_back(w);
  }
  return out;
}

struct Fixture {
  db::Pool& pool;
  std::int64_t alice = 0, admin = 0;
};

enum class As { kUser, kAdmin, kUserSession };  // kUserSession: alice signed in

struct Row {
  std::string method;
  std::function<std::string(Fixture&)> path;
  std::function<json(Fixture&)> body;  // a valid body
  As as = As::kUser;
};

std::function<std::string(Fixture&)> at(std::string p) {
  return [p](Fixture&) { return p; };
}
std::function<json(Fixture&)> body(json b) {
  return [b](Fixture&) { return b; };
}

std::vector<Row> rows() {
  // A fresh group for each request to a group's path.
  const auto sweep_group = [](Fixture& f) {
    static int n = 0;
    const auto i = std::to_string(++n);
    auto g = f.pool.transact([&](db::Tx& tx) { return db::groups::create(tx, "sweep-group-" + i, "58" + i); });
    EXPECT_TRUE(g);
    return "/api/v1/admin/groups/" + std::to_string(g ? g->id : 0);
  };
  return {
      {"POST", at("/api/v1/session"), body({{"username", "alice"}, {"password", kPassword}})},
      {"POST", at("/api/v1/tokens"), body({{"name", "sweep"}, {"expires_in_days", 30}})},
      // A session's own password. A hostile new password of 10 characters or more is
      // accepted, so each request first puts alice's password back (her sessions stay).
      {"PUT", at("/api/v1/me/password"),
       [](Fixture& f) {
         static const std::string hash = password::hash(kPassword).value();
         auto reset = f.pool.transact([&](db::Tx& tx) -> Result<db::User> {
           auto u = db::users::get(tx, f.alice);
           if (!u) return u;
           u->password_hash = hash;
           return db::users::update(tx, *u);
         });
         EXPECT_TRUE(reset) << reset.error().to_string();
         return json{{"current_password", kPassword}, {"new_password", "sweep password 9"}};
       },
       As::kUserSession},
      // == rows: faxes and files ==
      {"POST", at("/api/v1/faxes"), [](Fixture& f) {
         auto doc = f.pool.transact([&](db::Tx& tx) {
           db::Document d;
           d.kind = "upload";
           d.media_type = "text/plain";
           d.owner_user_id = f.alice;
           d.bytes = "sweep\n";
           return db::documents::put(tx, d);
         });
         EXPECT_TRUE(doc);
         return json{{"to", {"+4930123456", {{"number", "+4930123457"}, {"name", "N"}, {"company", "C"}}}},
                     {"files", {doc ? doc->id : 0}},
                     {"cover_page", "default"},
                     {"subject", "s"},
                     {"note", "n"},
                     {"resolution", "fine"},
                     {"priority", "high"},
                     {"send_at", "2026-12-31T10:00:00Z"},
                     {"max_attempts", 3},
                     {"retry_interval_s", 60},
                     {"labels", {"l"}},
                     {"client_reference", "r"}};
       }},
      // == rows: inbox, me/preferences, stats, fax documents and previews ==
      // == rows: admin users, groups, tokens, audit ==
      {"POST", at("/api/v1/admin/users"),
       body({{"username", "sweep"}, {"name", "Sweep"}, {"email", "sweep@example.com"}, {"password", "sweep password 2"},
             {"level", 2}, {"fax_number", "4997"}, {"phone", "303"}, {"enable_send", true}, {"fax_to_email", false},
             {"fax_to_email_address", "s@example.com"}, {"fax_to_email_attach", true}, {"cover_page", "urgent"},
             {"language", "en"}, {"company", "Sweep Srl"}, {"disabled", false}}),
       As::kAdmin},
      {"PATCH", [](Fixture& f) { return "/api/v1/admin/users/" + std::to_string(f.alice); },
       body({{"name", "Alice"}, {"email", "alice@example.com"}, {"level", nullptr}, {"fax_number", "4996"},
             {"phone", "304"}, {"fax_to_email_address", "a@example.com"}, {"cover_page", "urgent"},
             {"language", "it"}, {"company", "A"}, {"enable_receive", true}, {"disabled", false}}),
       As::kAdmin},
      {"PUT", at("/api/v1/admin/users/default-level"), body({{"level", 2}}), As::kAdmin},
      {"POST", [](Fixture& f) { return "/api/v1/admin/users/" + std::to_string(f.alice) + "/tokens"; },
       body({{"name", "sweep"}, {"expires_in_days", 30}}), As::kAdmin},
      {"POST", at("/api/v1/admin/groups"),
       [](Fixture& f) { return json{{"name", "sweep"}, {"fax_number", "4998"}, {"user_ids", {f.alice}}}; },
       As::kAdmin},
      {"PATCH", sweep_group, body({{"name", "sweep-renamed"}, {"fax_number", "4995"}}), As::kAdmin},
      {"PUT", [sweep_group](Fixture& f) { return sweep_group(f) + "/members"; },
       [](Fixture& f) { return json{{"user_ids", {f.alice, f.admin}}}; }, As::kAdmin},
      // == rows: admin routes, settings, cover pages, webhooks ==
      // == rows: end ==
  };
}

// Paths with a parameter, for the parameter sweep: the template with {p} where the
// hostile text goes.
std::vector<std::pair<std::string, std::string>> parameter_paths() {
  return {
      {"DELETE", "/api/v1/tokens/{p}"},
      {"GET", "/api/v1/faxes/{p}"},
      {"POST", "/api/v1/faxes/{p}/cancel"},
      {"POST", "/api/v1/faxes/{p}/resend"},
      // == params: more ==
      {"GET", "/api/v1/admin/users/{p}"},
      {"DELETE", "/api/v1/admin/users/{p}"},
      {"GET", "/api/v1/admin/groups/{p}"},
      {"DELETE", "/api/v1/admin/groups/{p}"},
      {"DELETE", "/api/v1/admin/tokens/{p}"},
  };
}

// Every (JSON pointer, value) of the body's leaves and containers below the root.
void walk(const json& j, const json::json_pointer& at, std::vector<std::pair<json::json_pointer, json>>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      out.emplace_back(at / it.key(), it.value());
      walk(it.value(), at / it.key(), out);
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      out.emplace_back(at / i, j[i]);
      walk(j[i], at / i, out);
    }
  }
}

std::string percent_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out.push_back(static_cast<char>(c));
    else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

class BadInputTest : public testing_support::WebApiFixture {
 protected:
  BadInputTest() : WebApiFixture("webapi_bad_input") {}

  void SetUp() override {
    fixture_.alice = make_user("alice", std::nullopt, {.password = kPassword, .display_name = ""});
    fixture_.admin = make_user("admin", 10, {.password = kPassword, .display_name = ""});
    WebApiSettings s;
    s.account_throttle = api::ThrottleRule{1000000, std::chrono::seconds(1)};
    s.address_throttle = api::ThrottleRule{1000000, std::chrono::seconds(1)};
    ASSERT_NO_FATAL_FAILURE(start_api(s, SystemClock::instance()));
    user_token_ = token_for(fixture_.alice, "sweep");
    admin_token_ = token_for(fixture_.admin, "sweep");
    ASSERT_FALSE(user_token_.empty() || admin_token_.empty());
  }

  testing::ApiClient client(As as) {
    testing::ApiClient c(port_);
    if (as == As::kUserSession) {
      EXPECT_TRUE(c.sign_in("alice", kPassword));
      return c;
    }
    c.bearer(as == As::kAdmin ? admin_token_ : user_token_);
    return c;
  }

  // A refusal or a success, never a server error; refusals are problems.
  void expect_handled(const testing::ApiReply& r, const std::string& what) {
    EXPECT_GT(r.status, 0) << what << ": no answer";
    EXPECT_LT(r.status, 500) << what << ": " << r.body.substr(0, 300);
    if (r.status >= 400) {
      EXPECT_EQ(r.content_type, "application/problem+json") << what;
    }
  }

  void expect_still_serving() {
    testing::ApiClient anyone(port_);
    ASSERT_EQ(anyone.get("/api/v1/version").status, 200) << "the service stopped serving";
  }

  Fixture fixture_{pool_};
  std::string user_token_, admin_token_;
};

TEST_F(BadInputTest, HostileStringsInEveryStringFieldAreHandled) {
  for (const Row& row : rows()) {
    const json valid = row.body(fixture_);
    std::vector<std::pair<json::json_pointer, json>> fields;
    walk(valid, json::json_pointer(), fields);
    for (const auto& [pointer, value] : fields) {
      if (!value.is_string()) continue;
      for (const auto& hostile : hostile_strings()) {
        json b = row.body(fixture_);
        b[pointer] = hostile;
        auto c = client(row.as);
        // dump with replacement: a string that is not UTF-8 is sent as the bytes a
        // careless client would send.
        const std::string text = b.dump(-1, ' ', false, json::error_handler_t::replace);
        expect_handled(c.send(row.method, row.path(fixture_), text, "application/json"),
                       row.method + " " + pointer.to_string() + " = hostile string");
      }
    }
    expect_still_serving();
  }
}

TEST_F(BadInputTest, WrongTypesUnknownFieldsAndCutBodiesAreRefusedWithProblems) {
  for (const Row& row : rows()) {
    const json valid = row.body(fixture_);
    const std::string path = row.path(fixture_);
    std::vector<std::pair<json::json_pointer, json>> fields;
    walk(valid, json::json_pointer(), fields);
    for (const auto& [pointer, value] : fields) {
      for (const auto& wrong : wrong_types(value)) {
        json b = row.body(fixture_);
        b[pointer] = wrong;
        auto r = client(row.as).send(row.method, path, b.dump(), "application/json");
        expect_handled(r, row.method + " " + path + " " + pointer.to_string() + " = " + wrong.dump());
      }
    }
    json extra = valid;
    extra["surely_not_a_field"] = 1;
    auto unknown = client(row.as).send(row.method, path, extra.dump(), "application/json");
    auto problem = testing::expect_problem(unknown, 422, "api.validation_failed");
    EXPECT_NE(problem.dump().find("/surely_not_a_field"), std::string::npos) << problem.dump();

    const std::string text = valid.dump();
    auto cut = client(row.as).send(row.method, path, text.substr(0, text.size() / 2), "application/json");
    testing::expect_problem(cut, 400, "api.invalid_json");
    for (const char* not_an_object : {"[]", "null", "17", "\"text\""}) {
      expect_handled(client(row.as).send(row.method, path, not_an_object, "application/json"),
                     row.method + " " + path + " body " + not_an_object);
    }
    expect_still_serving();
  }
}

// A GET operation of the document and its query parameters (name, schema type or
// format), read from the text the way permission_matrix_test.cpp reads operations: the
// parameters are one-line flow mappings, `- {name: x, in: query, ... schema: {type: t ...}}`.
struct QueryOperation {
  std::string path;  // the template
  std::string operation_id;
  std::vector<std::pair<std::string, std::string>> parameters;  // name, "integer" | "boolean" | "date-time" | ...
  bool is_list() const { return std::regex_search(operation_id, std::regex("^(admin)?[lL]ist")); }
};

std::vector<QueryOperation> documented_get_operations() {
  std::ifstream in(FAXBRIDGE_OPENAPI_DOCUMENT);
  std::vector<QueryOperation> ops;
  std::string line, path, method;
  bool in_paths = false;
  const std::regex path_re(R"(^  (/[^:]*):\s*$)");
  const std::regex op_re(R"(^    (get|put|post|patch|delete):\s*$)");
  const std::regex id_re(R"(^      operationId: (\w+)\s*$)");
  const std::regex param_re(R"(^        - \{name: (\w+), in: query,.*schema: \{type: (\w+)(, format: ([\w-]+))?)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (line.rfind("paths:", 0) == 0) in_paths = true;
    else if (!line.empty() && line[0] != ' ' && line[0] != '#') in_paths = false;
    if (!in_paths) continue;
    if (std::regex_match(line, m, path_re)) {
      path = m[1];
      method.clear();
    } else if (std::regex_match(line, m, op_re)) {
      method = m[1];
      if (method == "get") ops.push_back({path, "", {}});
    } else if (method == "get" && std::regex_match(line, m, id_re)) {
      ops.back().operation_id = m[1];
    } else if (method == "get" && std::regex_search(line, m, param_re)) {
      ops.back().parameters.emplace_back(m[1], m[4].matched ? m[4].str() : m[2].str());
    }
  }
  return ops;
}

// The template with placeholder values: a path's resource may not exist (404 is fine);
// the built-in `default` cover page does.
std::string concrete(std::string path) {
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"{id}", "1"}, {"{n}", "1"}, {"{name}", "default"}}) {
    for (auto at = path.find(from); at != std::string::npos; at = path.find(from)) path.replace(at, from.size(), to);
  }
  return path;
}

// Values a parameter of this type must refuse, beyond the hostile strings (0 is a
// level, so only a limit is sure to refuse it).
std::vector<std::string> wrong_values(const std::string& name, const std::string& type) {
  if (name == "limit") return {"0", "201", "-5", "abc", "1.5", "99999999999999999999999"};
  if (type == "integer") return {"abc", "1.5", "1e3", "0x10", "-1", "99999999999999999999999", "1,2"};
  if (type == "boolean") return {"yes", "1", "TRUE", "truee"};
  if (type == "date-time") return {"yesterday", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "1969-12-31T23:59:59Z"};
  return {};
}

TEST_F(BadInputTest, QueryParametersOfEveryGetOperationAreCheckedNeverFatal) {
  // A list under a resource (a webhook endpoint's deliveries) needs resource 1: the
  // administrator's own endpoint, seen by /admin/webhooks/1 and /webhooks/1 alike.
  sql("INSERT INTO webhook_endpoints (id, url, secret, user_id) OVERRIDING SYSTEM VALUE VALUES "
      "(1, 'https://hooks.example.test/', 'whsec_AAAA', " + std::to_string(fixture_.admin) + ")");
  const auto ops = documented_get_operations();
  int with_parameters = 0, lists = 0;
  for (const auto& op : ops) {
    const std::string path = concrete(op.path);
    const bool typed_checks_apply = op.path.find('{') == std::string::npos;
    if (!op.parameters.empty()) ++with_parameters;
    for (const auto& [name, type] : op.parameters) {
      std::vector<std::string> values = wrong_values(name, type);
      for (const auto& h : hostile_strings()) values.push_back(h.size() > 1000 ? h.substr(0, 1000) : h);
      for (const auto& v : values) {
        const std::string what = "GET " + path + "?" + name + "=" + v.substr(0, 40);
        auto r = client(As::kAdmin).get(path + "?" + name + "=" + percent_encode(v));
        expect_handled(r, what);
        // A typed parameter (or a cursor) given garbage is refused, on the lists at
        // least (elsewhere a missing resource may answer 404 first): 422 naming it, or
        // 400 api.cursor_invalid. An empty value counts as absent for some lists.
        const bool garbage = !v.empty() && (type == "integer" || type == "boolean" || type == "date-time" ||
                                            name == "cursor");
        if (garbage && typed_checks_apply) {
          if (r.status == 400) {
            EXPECT_EQ(r.json.value("code", ""), "api.cursor_invalid") << what;
          } else {
            ASSERT_EQ(r.status, 422) << what << ": " << r.body.substr(0, 300);
            EXPECT_NE(r.body.find("\"field\":\"" + name + "\""), std::string::npos) << what << ": " << r.body;
          }
        }
      }
    }
    if (op.is_list()) {
      ++lists;
      auto r = client(As::kAdmin).get(path + "?surely_not_a_parameter=1");
      auto problem = testing::expect_problem(r, 422, "api.validation_failed");
      ASSERT_EQ(problem["errors"].size(), 1u) << op.path << ": " << r.body;
      EXPECT_EQ(problem["errors"][0]["field"], "surely_not_a_parameter") << op.path;
      EXPECT_EQ(problem["errors"][0]["code"], "api.field_unknown") << op.path;
      // A list's first page answers as before.
      EXPECT_EQ(client(As::kAdmin).get(path).status, 200) << op.path;
    } else {
      expect_handled(client(As::kAdmin).get(path + "?surely_not_a_parameter=1"), "GET " + path + " unknown");
    }
    expect_still_serving();
  }
  EXPECT_GE(with_parameters, 10) << "the document's query parameters were not read";
  EXPECT_GE(lists, 12) << "the document's list operations were not read";
}

TEST_F(BadInputTest, HostilePathParametersAreNotFoundNotErrors) {
  for (const auto& [method, pattern] : parameter_paths()) {
    for (const auto& hostile : hostile_strings()) {
      if (hostile.empty() || hostile.size() > 1000) continue;  // an empty segment is another path
      std::string path = pattern;
      path.replace(path.find("{p}"), 3, percent_encode(hostile));
      auto r = client(As::kAdmin).send(method, path, "", "");
      expect_handled(r, method + " " + path);
      EXPECT_TRUE(r.status == 404 || r.status == 400 || r.status == 422) << method << " " << path << ": " << r.status;
    }
    expect_still_serving();
  }
}

}  // namespace
}  // namespace faxbridge::webapi
