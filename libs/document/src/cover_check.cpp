// DESIGN: what an uploaded cover page template may contain. librsvg draws it in the
// process that checks it (web-api's preview) and in the converter, and an administrator
// may download it into a browser, so a template must be a drawing and nothing else:
// no scripts or event handlers (a browser would run them), no DOCTYPE (entities: the
// "billion laughs" and external entities), no processing instructions
// (xml-stylesheet), no foreignObject (HTML), no animation (it can rewrite an href),
// and no reference that leaves the document: href, src and url() may name an element
// of the template (#id) or embed a raster image (data:image/png, jpeg or gif; a logo),
// never a file or a URL. This is a small lexer over tags and attributes, not a full XML
// parser: librsvg parses the document right after (render_cover), and anything it
// cannot parse is refused there. What the lexer cannot read (an unquoted attribute, an
// unterminated comment) is refused too, so nothing slips between the two readings.
#include <algorithm>
#include <cctype>
#include <string>

#include "faxbridge/document/compose.hpp"

namespace faxbridge::document {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

Error refuse(const std::string& why) {
  return Error(Code::k_document_cover_invalid, "The cover page is refused: " + why);
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':' || c == '-' || c == '.';
}

// The local name: "xlink:href" -> "href".
std::string local_name(const std::string& name) {
  const auto colon = name.rfind(':');
  return lower(colon == std::string::npos ? name : name.substr(colon + 1));
}

// A reference that stays inside the document or embeds a raster image.
bool allowed_reference(std::string_view value) {
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.remove_prefix(1);
  const std::string v = lower(value);
  if (!v.empty() && v.front() == '#') return v.find(':') == std::string::npos && v.find('&') == std::string::npos;
  for (const char* ok : {"data:image/png;", "data:image/jpeg;", "data:image/gif;", "data:image/png,",
                         "data:image/jpeg,", "data:image/gif,"}) {
    if (v.rfind(ok, 0) == 0) return true;
  }
  return false;
}

// CSS in a style attribute, a presentation attribute (fill="url(#g)") or a <style>.
Result<void> check_css(std::string_view css, const std::string& where) {
  const std::string c = lower(css);
  if (c.find("@import") != std::string::npos) return refuse("@import in " + where + " loads another file; remove it.");
  if (c.find("expression(") != std::string::npos) return refuse("expression() in " + where + " is not allowed.");
  if (c.find('\\') != std::string::npos && c.find("url") != std::string::npos) {
    return refuse("escaped characters next to url() in " + where + " are not allowed.");
  }
  for (std::size_t at = c.find("url("); at != std::string::npos; at = c.find("url(", at + 4)) {
    std::size_t i = at + 4;
    while (i < c.size() && (std::isspace(static_cast<unsigned char>(c[i])) || c[i] == '"' || c[i] == '\'')) ++i;
    if (!allowed_reference(std::string_view(css).substr(i))) {
      return refuse("url() in " + where + " must name an element of the template (url(#id)) or embed a PNG, JPEG or GIF image.");
    }
  }
  return ok();
}

}  // namespace

Result<void> check_cover_template(std::string_view svg) {
  static const char* const kForbidden[] = {"script", "foreignobject", "iframe", "embed", "object", "handler",
                                           "listener", "audio", "video", "animate", "animatemotion",
                                           "animatetransform", "animatecolor", "set", "discard"};
  std::size_t pos = 0;
  bool seen_root = false;
  bool in_style = false;
  std::size_t text_start = 0;
  while (true) {
    const std::size_t open = svg.find('<', pos);
    if (in_style) {
      auto css = check_css(svg.substr(text_start, (open == std::string_view::npos ? svg.size() : open) - text_start), "a <style> element");
      if (!css) return css;
    }
    if (open == std::string_view::npos) break;
    const std::string_view rest = svg.substr(open);
    if (rest.rfind("<!--", 0) == 0) {
      const auto end = svg.find("-->", open + 4);
      if (end == std::string_view::npos) return refuse("a comment is not closed (-->).");
      pos = end + 3;
      text_start = pos;
      continue;
    }
    if (rest.rfind("<![CDATA[", 0) == 0) {
      const auto end = svg.find("]]>", open + 9);
      if (end == std::string_view::npos) return refuse("a CDATA section is not closed (]]>).");
      if (in_style) {
        auto css = check_css(svg.substr(open + 9, end - open - 9), "a <style> element");
        if (!css) return css;
      }
      pos = end + 3;
      text_start = pos;
      continue;
    }
    if (rest.rfind("<!", 0) == 0) {
      return refuse("a DOCTYPE or entity declaration is not allowed; remove it (SVG needs none).");
    }
    if (rest.rfind("<?", 0) == 0) {
      const auto end = svg.find("?>", open + 2);
      if (end == std::string_view::npos) return refuse("a processing instruction is not closed (?>).");
      const bool declaration = lower(rest.substr(0, 6)) == "<?xml " && !seen_root &&
                               svg.substr(0, open).find_first_not_of(" \t\r\n\xEF\xBB\xBF") == std::string_view::npos;
      if (!declaration) return refuse("processing instructions (such as xml-stylesheet) are not allowed.");
      pos = end + 2;
      text_start = pos;
      continue;
    }
    std::size_t i = open + 1;
    const bool closing = i < svg.size() && svg[i] == '/';
    if (closing) ++i;
    const std::size_t name_start = i;
    while (i < svg.size() && is_name_char(svg[i])) ++i;
    if (i == name_start) return refuse("a '<' that starts no element; write it as &lt; in text.");
    const std::string name = local_name(std::string(svg.substr(name_start, i - name_start)));
    if (closing) {
      const auto end = svg.find('>', i);
      if (end == std::string_view::npos) return refuse("the end tag </" + name + " is not closed.");
      if (name == "style") in_style = false;
      pos = end + 1;
      text_start = pos;
      continue;
    }
    if (!seen_root && name != "svg") return refuse("it is not an SVG document (the root element is <" + name + ">, not <svg>).");
    seen_root = true;
    if (std::find(std::begin(kForbidden), std::end(kForbidden), name) != std::end(kForbidden)) {
      return refuse("<" + name + "> elements are not allowed in a cover page (it must be a static drawing).");
    }
    // Attributes up to ">" or "/>".
    bool self_closing = false;
    while (true) {
      while (i < svg.size() && std::isspace(static_cast<unsigned char>(svg[i]))) ++i;
      if (i >= svg.size()) return refuse("the tag <" + name + "> is not closed.");
      if (svg[i] == '>') {
        ++i;
        break;
      }
      if (svg[i] == '/' && i + 1 < svg.size() && svg[i + 1] == '>') {
        self_closing = true;
        i += 2;
        break;
      }
      const std::size_t an = i;
      while (i < svg.size() && is_name_char(svg[i])) ++i;
      if (i == an) return refuse("the tag <" + name + "> has a malformed attribute.");
      const std::string attr(svg.substr(an, i - an));
      while (i < svg.size() && std::isspace(static_cast<unsigned char>(svg[i]))) ++i;
      if (i >= svg.size() || svg[i] != '=') return refuse("the attribute " + attr + " of <" + name + "> has no value.");
      ++i;
      while (i < svg.size() && std::isspace(static_cast<unsigned char>(svg[i]))) ++i;
      if (i >= svg.size() || (svg[i] != '"' && svg[i] != '\'')) {
        return refuse("the attribute " + attr + " of <" + name + "> must be quoted.");
      }
      const char quote = svg[i++];
      const auto end = svg.find(quote, i);
      if (end == std::string_view::npos) return refuse("the attribute " + attr + " of <" + name + "> is not closed.");
      const std::string_view value = svg.substr(i, end - i);
      i = end + 1;
      const std::string local = local_name(attr);
      const std::string full = lower(attr);
      if (local.rfind("on", 0) == 0) {
        return refuse("event handler attributes (" + attr + ") are not allowed.");
      }
      if (full == "xml:base") return refuse("xml:base is not allowed.");
      if (local == "href" || local == "src") {
        if (!allowed_reference(value)) {
          return refuse("the " + attr + " of <" + name + "> must name an element of the template (#id) or embed a PNG, JPEG or GIF image (data:image/...); files and URLs are not allowed.");
        }
        continue;
      }
      auto css = check_css(value, "the attribute " + attr + " of <" + name + ">");
      if (!css) return css;
    }
    if (name == "style" && !self_closing) in_style = true;
    pos = i;
    text_start = pos;
  }
  if (!seen_root) return refuse("it is not an SVG document (no <svg> element).");
  return ok();
}

}  // namespace faxbridge::document
