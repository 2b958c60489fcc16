#include "faxbridge/api/validation.hpp"

#include <gtest/gtest.h>

using namespace faxbridge;
using nlohmann::json;

namespace {
// The declarative shape an endpoint would write.
struct NewFax {
  std::string to;
  std::optional<std::string> subject;
  int priority = 5;
  bool wait = false;
  std::string resolution = "fine";
  std::vector<std::string> labels;
  std::string cover_name;
  std::vector<std::string> numbers;
};

std::optional<api::Problem> read(const json& body, NewFax& fax) {
  api::Fields f(body);
  f.required("to", fax.to, api::Text{.min = 1, .max = 20});
  f.optional("subject", fax.subject, api::Text{.max = 10});
  f.optional("priority", fax.priority, api::Range{.min = 0, .max = 9});
  f.optional("wait", fax.wait);
  f.optional("resolution", fax.resolution, api::OneOf{{"standard", "fine"}});
  f.list("labels", fax.labels, api::Items{.max = 2}, api::Text{.min = 1, .max = 5});
  f.object("cover", false, [&](api::Fields& c) { c.required("name", fax.cover_name, api::Text{.max = 8}); });
  f.each("recipients", api::Items{.max = 3}, [&](api::Fields& r) {
    std::string number;
    r.required("number", number);
    if (!number.empty() && number.find_first_not_of("+0123456789") != std::string::npos) {
      r.reject("number", Code::k_phone_invalid, "Not a fax number.");
    }
    fax.numbers.push_back(number);
  });
  return f.finish();
}

std::vector<std::string> fields_of(const api::Problem& p) {
  std::vector<std::string> out;
  for (const auto& e : p.errors) out.push_back(e.field + " " + std::string(code_name(e.code)));
  return out;
}
}  // namespace

TEST(Fields, AValidBodyFillsTheStructAndGivesNoProblem) {
  NewFax fax;
  auto problem = read(json::parse(R"({"to":"+3902123","subject":"hi","priority":1,"wait":true,
      "resolution":"standard","labels":["a","bb"],"cover":{"name":"plain"},
      "recipients":[{"number":"+1555"}]})"), fax);
  ASSERT_FALSE(problem) << problem->detail;
  EXPECT_EQ(fax.to, "+3902123");
  EXPECT_EQ(fax.subject, "hi");
  EXPECT_EQ(fax.priority, 1);
  EXPECT_TRUE(fax.wait);
  EXPECT_EQ(fax.resolution, "standard");
  EXPECT_EQ(fax.labels, (std::vector<std::string>{"a", "bb"}));
  EXPECT_EQ(fax.cover_name, "plain");
  EXPECT_EQ(fax.numbers, (std::vector<std::string>{"+1555"}));
}

TEST(Fields, AbsentOptionalFieldsKeepTheirDefaultsAndNullCountsAsAbsent) {
  NewFax fax;
  auto problem = read(json::parse(R"({"to":"1","subject":null})"), fax);
  ASSERT_FALSE(problem);
  EXPECT_FALSE(fax.subject);
  EXPECT_EQ(fax.priority, 5);
  EXPECT_EQ(fax.resolution, "fine");
}

TEST(Fields, CollectsEveryErrorIntoOne422) {
  NewFax fax;
  auto problem = read(json::parse(R"({"subject":"far too long a subject","priority":"high","wait":1,
      "resolution":"ultra","labels":["","toolong"],"cover":{"name":"x","colour":"red"},
      "recipients":[{"number":"12a"},{"numbr":"1"}],"subjet":"typo"})"), fax);
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->status(), 422);
  EXPECT_EQ(problem->code, Code::k_api_validation_failed);
  EXPECT_EQ(fields_of(*problem), (std::vector<std::string>{
                                     "/to api.field_required",
                                     "/subject api.field_too_long",
                                     "/priority api.field_wrong_type",
                                     "/wait api.field_wrong_type",
                                     "/resolution api.field_invalid",
                                     "/labels/0 api.field_too_short",
                                     "/labels/1 api.field_too_long",
                                     "/cover/colour api.field_unknown",
                                     "/recipients/0/number phone.invalid",
                                     "/recipients/1/number api.field_required",
                                     "/recipients/1/numbr api.field_unknown",
                                     "/subjet api.field_unknown",
                                 }));
  EXPECT_EQ(problem->detail, "12 fields are invalid; see errors.");
}

TEST(Fields, IntegersMustBeWholeAndWithinTheRuleAndTheType) {
  NewFax fax;
  auto p1 = read(json::parse(R"({"to":"1","priority":2.5})"), fax);
  ASSERT_TRUE(p1);
  EXPECT_EQ(fields_of(*p1), (std::vector<std::string>{"/priority api.field_wrong_type"}));
  auto p2 = read(json::parse(R"({"to":"1","priority":10})"), fax);
  ASSERT_TRUE(p2);
  EXPECT_EQ(p2->errors[0].code, Code::k_api_field_out_of_range);
  EXPECT_EQ(p2->errors[0].detail, "Must be between 0 and 9.");

  const auto body = json::parse(R"({"small":300,"huge":18446744073709551615})");
  api::Fields f(body);
  std::int8_t small = 0;
  std::int64_t huge = 0;
  f.required("small", small);
  f.required("huge", huge);
  auto p3 = f.finish();
  ASSERT_TRUE(p3);
  EXPECT_EQ(fields_of(*p3), (std::vector<std::string>{"/small api.field_out_of_range", "/huge api.field_out_of_range"}));
}

TEST(Fields, StringLengthIsCountedInCharactersNotBytes) {
  const auto body = json::parse(R"({"name":"Zürich"})");  // 6 characters, 7 bytes
  api::Fields f(body);
  std::string name;
  f.required("name", name, api::Text{.max = 6});
  EXPECT_FALSE(f.finish());
  EXPECT_EQ(name, "Zürich");
}

TEST(Fields, ControlCharactersAreRefusedButTabsAndLineBreaksAreText) {
  json body = {{"a", std::string("nul\0inside", 10)}, {"b", "esc \x1b[31m"}, {"c", "del \x7f"},
               {"d", "two\r\nlines\tand a tab"}};
  api::Fields f(body);
  std::string a, b, c, d;
  f.required("a", a);
  f.required("b", b);
  f.required("c", c);
  f.required("d", d);
  auto problem = f.finish();
  ASSERT_TRUE(problem);
  EXPECT_EQ(fields_of(*problem),
            (std::vector<std::string>{"/a api.field_invalid", "/b api.field_invalid", "/c api.field_invalid"}));
  EXPECT_EQ(d, "two\r\nlines\tand a tab");
}

TEST(Fields, ABodyThatIsNotAnObjectIsOneErrorAtTheRoot) {
  NewFax fax;
  auto problem = read(json::parse(R"([1,2])"), fax);
  ASSERT_TRUE(problem);
  EXPECT_EQ(fields_of(*problem), (std::vector<std::string>{" api.field_wrong_type"}));
}

TEST(Fields, PointersEscapeSlashAndTilde) {
  const auto body = json::parse(R"({"a/b~c":1})");
  api::Fields f(body);
  auto problem = f.finish();
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->errors[0].field, "/a~1b~0c");
}

TEST(Fields, ThousandsOfErrorsAreCappedAndCounted) {
  json body = json::object();
  body["recipients"] = json::array();
  for (int i = 0; i < 3; ++i) body["recipients"].push_back({{"number", "x"}});
  for (int i = 0; i < 10000; ++i) body["junk" + std::to_string(i)] = i;
  api::Fields f(body);
  f.each("recipients", api::Items{.max = 10}, [](api::Fields& r) {
    std::string n;
    r.required("number", n);
  });
  auto problem = f.finish();
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->errors.size(), api::Fields::kMaxErrors);
  EXPECT_EQ(problem->detail, "10000 fields are invalid; see errors. Only the first 50 are listed.");
}

TEST(Fields, ListsAreCheckedForTypeAndCount) {
  const auto body = json::parse(R"({"labels":["a","b","c"],"tags":"x"})");
  api::Fields f(body);
  std::vector<std::string> labels, tags;
  f.list("labels", labels, api::Items{.max = 2});
  f.list("tags", tags);
  auto problem = f.finish();
  ASSERT_TRUE(problem);
  EXPECT_EQ(fields_of(*problem), (std::vector<std::string>{"/labels api.field_too_long", "/tags api.field_wrong_type"}));
  EXPECT_TRUE(labels.empty());
}

TEST(Fields, AListOfIntegersNamesEachBadItem) {
  const json body = {{"ids", {3, "4", 0, 7}}};
  api::Fields f(body);
  std::vector<std::int64_t> ids;
  f.list("ids", ids, api::Items{.min = 1, .max = 10}, api::Range{.min = 1, .max = 100});
  auto p = f.finish();
  ASSERT_TRUE(p);
  ASSERT_EQ(p->errors.size(), 2u);
  EXPECT_EQ(p->errors[0].field, "/ids/1");
  EXPECT_EQ(p->errors[0].code, Code::k_api_field_wrong_type);
  EXPECT_EQ(p->errors[1].field, "/ids/2");
  EXPECT_EQ(p->errors[1].code, Code::k_api_field_out_of_range);
  EXPECT_TRUE(ids.empty()) << "nothing is stored from a bad list";

  const json good = {{"ids", {3, 4}}};
  api::Fields g(good);
  g.list("ids", ids, api::Items{.min = 1, .max = 1}, api::Range{.min = 1, .max = 100});
  p = g.finish();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->errors[0].code, Code::k_api_field_too_long);
}
