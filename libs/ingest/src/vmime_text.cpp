// Reading vmime's parsed message into UTF-8 strings (vmime_text.hpp says the rules).
#include "vmime_text.hpp"

#include <cctype>

namespace faxbridge::ingest::detail {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string s) {
  const char* ws = " \t\r\n";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

bool valid_utf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    char32_t cp = 0;
    if ((c & 0xE0) == 0xC0) n = 1, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) n = 2, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) n = 3, cp = c & 0x07;
    else return false;
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

namespace {

std::string from_windows_1252(const std::string& bytes) {
  // 0x80-0x9F differ from Latin-1; the rest of the upper half is Latin-1.
  static const char16_t k80[32] = {0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                   0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
                                   0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                   0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};
  std::string out;
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    const char32_t u = c < 0x80 ? c : c < 0xA0 ? k80[c - 0x80] : c;
    if (u < 0x80) {
      out.push_back(static_cast<char>(u));
    } else if (u < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (u >> 6)));
      out.push_back(static_cast<char>(0x80 | (u & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xE0 | (u >> 12)));
      out.push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (u & 0x3F)));
    }
  }
  return out;
}

}  // namespace

std::string to_utf8(const std::string& bytes, const std::string& charset_in) {
  const std::string charset = lower(trim(charset_in));
  if (charset.empty() || charset == "us-ascii" || charset == "utf-8" || charset == "utf8")
    return valid_utf8(bytes) ? bytes : from_windows_1252(bytes);
  try {
    std::string out;
    vmime::charsetConverterOptions options;
    options.silentlyReplaceInvalidSequences = true;
    options.invalidSequence = "\xEF\xBF\xBD";  // U+FFFD
    vmime::charset::convert(bytes, out, vmime::charset(charset), vmime::charsets::UTF_8, options);
    if (valid_utf8(out)) return out;
  } catch (const std::exception&) {
    // An unknown charset: fall through.
  }
  return valid_utf8(bytes) ? bytes : from_windows_1252(bytes);
}

std::string raw_field(const vmime::header& h, const std::string& name) {
  auto f = h.findField(name);
  if (!f) return {};
  auto v = f->getValue();
  if (auto t = vmime::dynamicCast<vmime::text>(v)) return trim(t->getWholeBuffer());
  return trim(v->generate());
}

std::string text_field(const vmime::header& h, const std::string& name) {
  auto f = h.findField(name);
  if (!f) return {};
  auto t = vmime::dynamicCast<vmime::text>(f->getValue());
  if (!t) return trim(f->getValue()->generate());
  std::string out;
  for (const auto& w : t->getWordList()) out += to_utf8(w->getBuffer(), w->getCharset().getName());
  return trim(out);
}

std::string media_type(const vmime::header& h) {
  auto f = h.findField(vmime::fields::CONTENT_TYPE);
  if (!f) return "text/plain";
  auto t = vmime::dynamicCast<vmime::mediaType>(f->getValue());
  if (!t || t->getType().empty()) return "text/plain";
  return lower(t->getType() + "/" + t->getSubType());
}

std::string content_charset(const vmime::header& h) {
  auto f = h.findField<vmime::contentTypeField>(vmime::fields::CONTENT_TYPE);
  if (!f || !f->hasParameter("charset")) return {};
  return f->findParameter("charset")->getValue().getBuffer();
}

std::string disposition(const vmime::header& h) {
  auto f = h.findField(vmime::fields::CONTENT_DISPOSITION);
  if (!f) return {};
  auto d = vmime::dynamicCast<vmime::contentDisposition>(f->getValue());
  return d ? lower(d->getName()) : std::string();
}

namespace {
std::string parameter_text(const std::shared_ptr<vmime::parameterizedHeaderField>& f, const char* name) {
  if (!f || !f->hasParameter(name)) return {};
  const vmime::word& w = f->findParameter(name)->getValue();
  std::string value = to_utf8(w.getBuffer(), w.getCharset().getName());
  // Some clients put RFC 2047 words into the parameter (not allowed, widely done).
  if (value.find("=?") != std::string::npos) {
    vmime::text t;
    t.parse(value);
    std::string decoded;
    for (const auto& word : t.getWordList()) decoded += to_utf8(word->getBuffer(), word->getCharset().getName());
    value = decoded;
  }
  return trim(value);
}
}  // namespace

std::string filename(const vmime::header& h) {
  std::string name = parameter_text(h.findField<vmime::parameterizedHeaderField>(vmime::fields::CONTENT_DISPOSITION),
                                    "filename");
  if (name.empty())
    name = parameter_text(h.findField<vmime::parameterizedHeaderField>(vmime::fields::CONTENT_TYPE), "name");
  // A file name, not a path: the converter and the reader see the last component only.
  const auto slash = name.find_last_of("/\\");
  if (slash != std::string::npos) name = name.substr(slash + 1);
  return name;
}

std::string content_id(const vmime::header& h) {
  std::string id = raw_field(h, vmime::fields::CONTENT_ID);
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
  return id;
}

std::string decoded_bytes(const vmime::body& b) {
  std::string out;
  vmime::utility::outputStreamStringAdapter os(out);
  b.getContents()->extract(os);
  os.flush();
  return out;
}

std::size_t encoded_length(const vmime::body& b) { return b.getContents()->getLength(); }

}  // namespace faxbridge::ingest::detail
