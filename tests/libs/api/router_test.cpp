#include "faxbridge/api/router.hpp"

#include <gtest/gtest.h>

using namespace faxbridge;
using api::RouteTable;

namespace {
std::size_t add(RouteTable& t, const std::string& method, const std::string& pattern) {
  auto r = t.add(method, pattern);
  EXPECT_TRUE(r) << r.error().to_string();
  return r ? *r : 0;
}
}  // namespace

TEST(RouteTable, MatchesALiteralPathAndGivesParametersByName) {
  RouteTable t;
  add(t, "GET", "/api/v1/version");
  const auto cancel = add(t, "POST", "/api/v1/faxes/{id}/cancel");
  auto m = t.match("POST", "/api/v1/faxes/812/cancel");
  ASSERT_EQ(m.kind, RouteTable::Match::Kind::kFound);
  EXPECT_EQ(m.route, cancel);
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].first, "id");
  EXPECT_EQ(m.params[0].second, "812");
  EXPECT_EQ(t.pattern(m.route), "/api/v1/faxes/{id}/cancel");
}

TEST(RouteTable, UnknownPathIsNotFound) {
  RouteTable t;
  add(t, "GET", "/api/v1/faxes/{id}");
  EXPECT_EQ(t.match("GET", "/api/v1/nothing").kind, RouteTable::Match::Kind::kNotFound);
  EXPECT_EQ(t.match("GET", "/api/v1/faxes").kind, RouteTable::Match::Kind::kNotFound);
  EXPECT_EQ(t.match("GET", "/api/v1/faxes/").kind, RouteTable::Match::Kind::kNotFound);  // empty id
  EXPECT_EQ(t.match("GET", "/api/v1/faxes/1/2").kind, RouteTable::Match::Kind::kNotFound);
  EXPECT_EQ(t.match("GET", "api/v1/faxes/1").kind, RouteTable::Match::Kind::kNotFound);
}

TEST(RouteTable, KnownPathWithAnotherMethodListsTheAllowedOnes) {
  RouteTable t;
  add(t, "GET", "/api/v1/faxes");
  add(t, "POST", "/api/v1/faxes");
  auto m = t.match("DELETE", "/api/v1/faxes");
  ASSERT_EQ(m.kind, RouteTable::Match::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allowed, (std::vector<std::string>{"GET", "HEAD", "POST"}));
}

TEST(RouteTable, HeadIsServedByGet) {
  RouteTable t;
  const auto get = add(t, "GET", "/api/v1/faxes/{id}");
  auto m = t.match("HEAD", "/api/v1/faxes/3");
  ASSERT_EQ(m.kind, RouteTable::Match::Kind::kFound);
  EXPECT_EQ(m.route, get);
  EXPECT_FALSE(t.add("HEAD", "/x"));
}

TEST(RouteTable, LiteralSegmentBeatsAParameterWhicheverWasAddedFirst) {
  for (bool literal_first : {true, false}) {
    RouteTable t;
    std::size_t literal = 0, param = 0;
    if (literal_first) {
      literal = add(t, "GET", "/api/v1/faxes/export");
      param = add(t, "GET", "/api/v1/faxes/{id}");
    } else {
      param = add(t, "GET", "/api/v1/faxes/{id}");
      literal = add(t, "GET", "/api/v1/faxes/export");
    }
    EXPECT_EQ(t.match("GET", "/api/v1/faxes/export").route, literal);
    EXPECT_EQ(t.match("GET", "/api/v1/faxes/42").route, param);
  }
}

TEST(RouteTable, BacktracksToTheParameterWhenTheLiteralBranchLeadsNowhere) {
  RouteTable t;
  add(t, "GET", "/a/b/d");
  const auto param = add(t, "GET", "/a/{x}/c");
  auto m = t.match("GET", "/a/b/c");
  ASSERT_EQ(m.kind, RouteTable::Match::Kind::kFound);
  EXPECT_EQ(m.route, param);
  EXPECT_EQ(m.params[0].second, "b");
}

TEST(RouteTable, AMoreLiteralPathWithoutTheMethodDefersToAParameterPathWithIt) {
  RouteTable t;
  add(t, "POST", "/faxes/export");
  const auto get = add(t, "GET", "/faxes/{id}");
  EXPECT_EQ(t.match("GET", "/faxes/export").route, get);
  auto m = t.match("PUT", "/faxes/export");
  ASSERT_EQ(m.kind, RouteTable::Match::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allowed, (std::vector<std::string>{"GET", "HEAD", "POST"}));
}

TEST(RouteTable, ParameterNamesAreTheRoutesOwn) {
  RouteTable t;
  add(t, "GET", "/faxes/{id}");
  add(t, "GET", "/faxes/{fax}/pages/{page}");
  auto m = t.match("GET", "/faxes/7/pages/2");
  ASSERT_EQ(m.params.size(), 2u);
  EXPECT_EQ(m.params[0], (std::pair<std::string, std::string>{"fax", "7"}));
  EXPECT_EQ(m.params[1], (std::pair<std::string, std::string>{"page", "2"}));
}

TEST(RouteTable, RefusesBadPatternsAndDuplicates) {
  RouteTable t;
  add(t, "GET", "/faxes/{id}");
  EXPECT_FALSE(t.add("GET", "/faxes/{other}"));  // same shape and method
  EXPECT_TRUE(t.add("DELETE", "/faxes/{other}"));
  EXPECT_FALSE(t.add("GET", "faxes"));
  EXPECT_FALSE(t.add("GET", "/a//b"));
  EXPECT_FALSE(t.add("GET", "/a/{x}/{x}"));
  EXPECT_FALSE(t.add("GET", "/a/pre{x}"));
  EXPECT_FALSE(t.add("GET", "/a/{x-y}"));
}
