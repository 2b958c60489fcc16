// DESIGN: a small recursive-descent reader of RFC 8601 section 2.2's grammar over one
// field value: comments (nested, with quoted pairs) and folding white space are skipped
// wherever CFWS may stand, values are tokens or quoted strings, and a property value may
// be an address (local-part@domain). Anything that does not fit makes the whole field
// unreadable (nullopt): a half-read verdict is never used. The decision on top
// (sender_authenticated) reads only the trusted server's fields, and of those only the
// topmost run (trusted_results: the fields it wrote on receipt, above the Received
// field of its own hop; the header explains why).
#include "faxbridge/ingest/authentication_results.hpp"

#include <cctype>

namespace faxbridge::ingest {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool equal_ci(std::string_view a, std::string_view b) { return lower(a) == lower(b); }

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  bool at_end() {
    skip_cfws();
    return i_ >= s_.size();
  }
  bool peek(char c) {
    skip_cfws();
    return i_ < s_.size() && s_[i_] == c;
  }
  bool take(char c) {
    if (!peek(c)) return false;
    ++i_;
    return true;
  }
  // RFC 2045 token, or a quoted-string (RFC 5322 3.2.4), unquoted.
  std::optional<std::string> value() {
    skip_cfws();
    if (i_ < s_.size() && s_[i_] == '"') return quoted();
    std::string out;
    while (i_ < s_.size() && is_token_char(s_[i_])) out.push_back(s_[i_++]);
    if (out.empty()) return std::nullopt;
    return out;
  }
  // RFC 5321 Keyword-like names of methods, results, ptypes and properties.
  std::optional<std::string> keyword() {
    skip_cfws();
    std::string out;
    while (i_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '-' || s_[i_] == '_'))
      out.push_back(s_[i_++]);
    if (out.empty()) return std::nullopt;
    return out;
  }
  std::optional<std::string> digits() {
    skip_cfws();
    std::string out;
    while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) out.push_back(s_[i_++]);
    if (out.empty()) return std::nullopt;
    return out;
  }
  // pvalue: a value, or [[local-part] "@"] domain-name.
  std::optional<std::string> pvalue() {
    skip_cfws();
    if (i_ < s_.size() && s_[i_] == '"') {
      auto q = quoted();
      if (!q) return q;
      // A quoted local part followed by @domain.
      if (i_ < s_.size() && s_[i_] == '@') {
        std::string out = *q;
        while (i_ < s_.size() && !is_end_of_pvalue(s_[i_])) out.push_back(s_[i_++]);
        return out;
      }
      return q;
    }
    std::string out;
    while (i_ < s_.size() && !is_end_of_pvalue(s_[i_])) out.push_back(s_[i_++]);
    if (out.empty()) return std::nullopt;
    return out;
  }
 private:
  static bool is_token_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 32 || u >= 127) return false;
    return std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
  }
  static bool is_end_of_pvalue(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 32 || c == ';' || c == '(' || c == '"';
  }
  std::optional<std::string> quoted() {
    ++i_;  // the opening quote
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
      out.push_back(s_[i_++]);
    }
    if (i_ >= s_.size()) return std::nullopt;  // unterminated
    ++i_;
    return out;
  }
  void skip_cfws() {
    for (;;) {
      while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n')) ++i_;
      if (i_ >= s_.size() || s_[i_] != '(') return;
      // A comment: nested parentheses, backslash quotes the next character.
      int depth = 0;
      while (i_ < s_.size()) {
        const char c = s_[i_++];
        if (c == '\\' && i_ < s_.size()) {
          ++i_;
        } else if (c == '(') {
          ++depth;
        } else if (c == ')' && --depth == 0) {
          break;
        }
      }
      if (depth != 0) {
        i_ = s_.size();  // unterminated comment: nothing more to read
        broken_ = true;
        return;
      }
    }
  }

 public:
  bool broken() const { return broken_; }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
  bool broken_ = false;
};

std::string domain_of(std::string_view value) {
  const auto at = value.rfind('@');
  return lower(at == std::string_view::npos ? value : value.substr(at + 1));
}

}  // namespace

std::string AuthResult::property(std::string_view key) const {
  for (const auto& [k, v] : properties)
    if (k == key) return v;
  return {};
}

std::optional<AuthenticationResults> parse_authentication_results(std::string_view value) {
  Reader r(value);
  AuthenticationResults out;
  auto id = r.value();
  if (!id) return std::nullopt;
  out.authserv_id = *id;
  (void)r.digits();  // authres-version
  bool any = false;
  while (!r.at_end()) {
    if (!r.take(';')) return std::nullopt;
    if (r.at_end()) break;  // a trailing ';' is common enough to forgive
    auto method = r.keyword();
    if (!method) return std::nullopt;
    if (equal_ci(*method, "none") && (r.at_end() || r.peek(';'))) {
      if (any) return std::nullopt;  // "none" stands alone
      continue;
    }
    AuthResult result;
    result.method = lower(*method);
    if (r.take('/') && !r.digits()) return std::nullopt;  // method-version
    if (!r.take('=')) return std::nullopt;
    auto verdict = r.keyword();
    if (!verdict) return std::nullopt;
    result.result = lower(*verdict);
    while (!r.at_end() && !r.peek(';')) {
      auto ptype = r.keyword();
      if (!ptype) return std::nullopt;
      if (equal_ci(*ptype, "reason")) {
        if (!r.take('=') || !r.value()) return std::nullopt;
        continue;
      }
      if (!r.take('.')) return std::nullopt;
      auto property = r.keyword();
      if (!property || !r.take('=')) return std::nullopt;
      auto v = r.pvalue();
      if (!v) return std::nullopt;
      result.properties.emplace_back(lower(*ptype) + "." + lower(*property), *v);
    }
    out.results.push_back(std::move(result));
    any = true;
  }
  if (r.broken()) return std::nullopt;
  return out;
}

bool domains_aligned(std::string_view a_in, std::string_view b_in) {
  const std::string a = lower(a_in), b = lower(b_in);
  if (a.empty() || b.empty()) return false;
  if (a == b) return true;
  auto under = [](const std::string& sub, const std::string& parent) {
    return sub.size() > parent.size() + 1 && sub.compare(sub.size() - parent.size(), parent.size(), parent) == 0 &&
           sub[sub.size() - parent.size() - 1] == '.' && parent.find('.') != std::string::npos;
  };
  return under(a, b) || under(b, a);
}

bool sender_authenticated(const std::vector<std::string>& field_values, std::string_view authserv_id,
                          std::string_view from_domain, std::string* how) {
  if (authserv_id.empty() || from_domain.empty()) return false;
  for (const auto& value : field_values) {
    auto parsed = parse_authentication_results(value);
    if (!parsed || !equal_ci(parsed->authserv_id, authserv_id)) continue;
    for (const auto& r : parsed->results) {
      if (r.result != "pass") continue;
      if (r.method == "dkim") {
        std::string d = r.property("header.d");
        if (d.empty()) d = domain_of(r.property("header.i"));
        if (domains_aligned(d, from_domain)) {
          if (how) *how = "dkim header.d=" + d;
          return true;
        }
      } else if (r.method == "spf") {
        const std::string d = domain_of(r.property("smtp.mailfrom"));
        if (domains_aligned(d, from_domain)) {
          if (how) *how = "spf smtp.mailfrom=" + d;
          return true;
        }
      } else if (r.method == "dmarc") {
        if (equal_ci(r.property("header.from"), from_domain)) {
          if (how) *how = "dmarc header.from=" + r.property("header.from");
          return true;
        }
      }
    }
  }
  return false;
}

std::vector<std::string> trusted_results(const std::vector<HeaderField>& fields_top_first,
                                         std::string_view authserv_id) {
  std::vector<std::string> out;
  if (authserv_id.empty()) return out;
  bool in_run = false;
  for (const auto& f : fields_top_first) {
    if (equal_ci(f.name, "Received")) {
      if (in_run) break;  // the hop that handed the message to the trusted server
      continue;
    }
    if (!equal_ci(f.name, "Authentication-Results")) continue;
    // Only the authserv-id is read here: a field of the trusted server that does not
    // parse still starts the run (and then counts for nothing), so a readable forgery
    // further down can never stand in for it.
    Reader r(f.value);
    auto id = r.value();
    if (!id || !equal_ci(*id, authserv_id)) continue;
    in_run = true;
    out.push_back(f.value);
  }
  return out;
}

}  // namespace faxbridge::ingest
