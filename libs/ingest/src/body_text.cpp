// DESIGN: html_to_text walks gumbo's tree with an explicit stack (a hostile mail can nest
// elements thousands deep; recursion would spend the stack), writing text nodes with
// white space collapsed as a browser would (kept inside <pre>), and a line break around
// each block element. Subtrees a reader of the fax does not need are skipped whole: the
// head, scripts and styles, and the quoted original of a reply.
//
// strip_quotes_and_signature works on lines, so it serves both the plain-text body and
// the text made from HTML.
#include "faxbridge/ingest/body_text.hpp"

#include <gumbo.h>

#include <cstring>
#include <utility>
#include <vector>

namespace faxbridge::ingest {
namespace {

// gumbo checks the stack of open elements for every start tag (the HTML standard's "has
// an element in scope"), so deep nesting costs depth x tags: 20,000 nested <div>s (100 KB)
// took 14 s. No mail's words for a cover page need more than a few thousand tags, so the
// HTML is cut before its kMaxHtmlTags-th tag; what follows is not read.
constexpr std::size_t kMaxHtmlTags = 4000;

std::string_view bounded(std::string_view html) {
  std::size_t tags = 0;
  for (std::size_t i = 0; i < html.size(); ++i)
    if (html[i] == '<' && ++tags > kMaxHtmlTags) return html.substr(0, i);
  return html;
}

bool is_block(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_P: case GUMBO_TAG_DIV: case GUMBO_TAG_BR: case GUMBO_TAG_LI: case GUMBO_TAG_UL:
    case GUMBO_TAG_OL: case GUMBO_TAG_TR: case GUMBO_TAG_TABLE: case GUMBO_TAG_H1: case GUMBO_TAG_H2:
    case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5: case GUMBO_TAG_H6: case GUMBO_TAG_PRE:
    case GUMBO_TAG_HR: case GUMBO_TAG_SECTION: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_HEADER:
    case GUMBO_TAG_FOOTER: case GUMBO_TAG_ADDRESS: case GUMBO_TAG_DL: case GUMBO_TAG_DT: case GUMBO_TAG_DD:
    case GUMBO_TAG_CENTER:
      return true;
    default:
      return false;
  }
}

bool has_class(const GumboElement& e, const char* name) {
  const GumboAttribute* a = gumbo_get_attribute(&e.attributes, "class");
  if (!a) return false;
  const std::string_view v(a->value);
  const std::size_t n = std::strlen(name);
  for (std::size_t at = v.find(name); at != std::string_view::npos; at = v.find(name, at + 1)) {
    const bool start_ok = at == 0 || v[at - 1] == ' ';
    const bool end_ok = at + n == v.size() || v[at + n] == ' ';
    if (start_ok && end_ok) return true;
  }
  return false;
}

bool skipped(const GumboElement& e) {
  switch (e.tag) {
    case GUMBO_TAG_HEAD: case GUMBO_TAG_SCRIPT: case GUMBO_TAG_STYLE: case GUMBO_TAG_TITLE:
    case GUMBO_TAG_TEMPLATE: case GUMBO_TAG_NOSCRIPT:
    // A quoted original: <blockquote> is how every client quotes in HTML.
    case GUMBO_TAG_BLOCKQUOTE:
      return true;
    default:
      break;
  }
  // The quote and signature blocks of Gmail and Thunderbird.
  return has_class(e, "gmail_quote") || has_class(e, "gmail_signature") || has_class(e, "moz-signature") ||
         has_class(e, "moz-cite-prefix");
}

class TextWriter {
 public:
  void text(std::string_view t, bool preformatted) {
    for (char c : t) {
      if (!preformatted && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
        pending_space_ = !out_.empty() && out_.back() != '\n';
        continue;
      }
      if (preformatted && c == '\n') {
        line_break();
        continue;
      }
      if (pending_space_) out_.push_back(' ');
      pending_space_ = false;
      out_.push_back(c);
    }
  }
  void line_break() {
    pending_space_ = false;
    out_.push_back('\n');
  }
  // A block's edge: the next text starts on a new line, with at most one blank line.
  void block_edge() {
    pending_space_ = false;
    if (out_.empty()) return;
    if (out_.back() != '\n') out_.push_back('\n');
  }
  void paragraph_edge() {
    block_edge();
    if (out_.size() >= 2 && out_[out_.size() - 2] == '\n') return;
    if (!out_.empty()) out_.push_back('\n');
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
  bool pending_space_ = false;
};

}  // namespace

std::string html_to_text(std::string_view html_in) {
  const std::string_view html = bounded(html_in);
  GumboOutput* doc = gumbo_parse_with_options(&kGumboDefaultOptions, html.data(), html.size());
  TextWriter w;
  // (node, closing): a node is pushed twice, to write its opening and then its end.
  std::vector<std::pair<const GumboNode*, bool>> stack{{doc->root, false}};
  int pre_depth = 0;
  while (!stack.empty()) {
    auto [node, closing] = stack.back();
    stack.pop_back();
    if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_WHITESPACE || node->type == GUMBO_NODE_CDATA) {
      w.text(node->v.text.text, pre_depth > 0);
      continue;
    }
    if (node->type != GUMBO_NODE_ELEMENT && node->type != GUMBO_NODE_TEMPLATE) continue;
    const GumboElement& e = node->v.element;
    if (closing) {
      if (e.tag == GUMBO_TAG_PRE) --pre_depth;
      if (e.tag == GUMBO_TAG_P || (e.tag >= GUMBO_TAG_H1 && e.tag <= GUMBO_TAG_H6)) w.paragraph_edge();
      else if (is_block(e.tag)) w.block_edge();
      continue;
    }
    if (skipped(e)) continue;
    if (e.tag == GUMBO_TAG_BR) {
      w.line_break();
      continue;
    }
    if (e.tag == GUMBO_TAG_P || (e.tag >= GUMBO_TAG_H1 && e.tag <= GUMBO_TAG_H6)) w.paragraph_edge();
    else if (is_block(e.tag)) w.block_edge();
    if (e.tag == GUMBO_TAG_LI) w.text("- ", true);
    if (e.tag == GUMBO_TAG_PRE) ++pre_depth;
    stack.emplace_back(node, true);
    for (unsigned i = e.children.length; i > 0; --i)
      stack.emplace_back(static_cast<const GumboNode*>(e.children.data[i - 1]), false);
  }
  gumbo_destroy_output(&kGumboDefaultOptions, doc);
  return strip_quotes_and_signature(w.take());
}

std::vector<std::string> html_cid_references(std::string_view html_in) {
  const std::string_view html = bounded(html_in);
  GumboOutput* doc = gumbo_parse_with_options(&kGumboDefaultOptions, html.data(), html.size());
  std::vector<std::string> out;
  std::vector<const GumboNode*> stack{doc->root};
  while (!stack.empty()) {
    const GumboNode* node = stack.back();
    stack.pop_back();
    if (node->type != GUMBO_NODE_ELEMENT) continue;
    const GumboElement& e = node->v.element;
    if (e.tag == GUMBO_TAG_IMG) {
      if (const GumboAttribute* src = gumbo_get_attribute(&e.attributes, "src")) {
        const std::string_view v(src->value);
        if (v.size() > 4 && (v.substr(0, 4) == "cid:" || v.substr(0, 4) == "CID:")) out.emplace_back(v.substr(4));
      }
    }
    for (unsigned i = 0; i < e.children.length; ++i) stack.push_back(static_cast<const GumboNode*>(e.children.data[i]));
  }
  gumbo_destroy_output(&kGumboDefaultOptions, doc);
  return out;
}

namespace {

std::string trim_right(std::string_view s) {
  std::size_t n = s.size();
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) --n;
  return std::string(s.substr(0, n));
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// The line that introduces a quoted original in the common clients' languages.
bool introduces_quote(std::string_view line) {
  for (std::string_view end : {"wrote:", "schrieb:", "a écrit :", "a écrit:", "ha scritto:", "escribió:", "schreef:"})
    if (ends_with(line, end)) return true;
  return false;
}

}  // namespace

std::string strip_quotes_and_signature(std::string_view text) {
  std::vector<std::string> lines;
  for (std::size_t at = 0; at <= text.size();) {
    const std::size_t nl = text.find('\n', at);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    lines.push_back(trim_right(text.substr(at, end - at)));
    if (nl == std::string_view::npos) break;
    at = nl + 1;
  }
  // What comes first: the signature or a quoted original ends the sender's text.
  std::size_t stop = lines.size();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    // "-- " lost its space to trim_right; a bare "--" is what many clients write.
    if (l == "--" || starts_with(l, "-----Original Message-----") || starts_with(l, "----- Original Message -----") ||
        starts_with(l, "________________________________")) {
      stop = i;
      break;
    }
  }
  std::vector<std::string> kept;
  for (std::size_t i = 0; i < stop; ++i) {
    const std::string& l = lines[i];
    if (starts_with(l, ">")) continue;
    if (introduces_quote(l)) {
      std::size_t j = i + 1;
      while (j < stop && lines[j].empty()) ++j;
      if (j >= stop || starts_with(lines[j], ">")) continue;
    }
    kept.push_back(l);
  }
  // One blank line at most between paragraphs, none at either end.
  std::string out;
  bool blank = false;
  for (const auto& l : kept) {
    if (l.empty()) {
      blank = !out.empty();
      continue;
    }
    if (blank) out += "\n";
    blank = false;
    out += l;
    out += "\n";
  }
  return out;
}

}  // namespace faxbridge::ingest
