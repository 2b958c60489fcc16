// Which mails are automatic (loop_guard.hpp lists the rules and their sources).
#include "loop_guard.hpp"

#include "vmime_text.hpp"

namespace faxbridge::ingest::detail {
namespace {

// First word of a field value: "auto-replied; owner-email=..." -> "auto-replied".
std::string first_word(const std::string& value) {
  std::string v = lower(trim(value));
  const auto end = v.find_first_of(" \t;(");
  return end == std::string::npos ? v : v.substr(0, end);
}

// Subjects of out-of-office replies from clients that set no Auto-Submitted field, in
// the languages of our users first (lower case, compared with the subject's start).
constexpr const char* kAutoReplySubjects[] = {
    "out of office", "automatic reply", "auto reply", "auto-reply", "autoreply", "auto:",
    "risposta automatica", "fuori sede", "réponse automatique", "absence du bureau", "abwesenheitsnotiz",
    "automatische antwort", "respuesta automática", "fuera de la oficina",
};

}  // namespace

std::string automatic_reason(const vmime::header& h, const std::string& from_email, const std::string& subject,
                             const std::vector<std::string>& own_addresses) {
  if (h.hasField("Auto-Submitted")) {
    const std::string v = first_word(raw_field(h, "Auto-Submitted"));
    if (v != "no") return "Auto-Submitted: " + v;
  }
  if (h.hasField("X-Autoreply")) return "X-Autoreply";
  if (h.hasField("X-Autorespond")) return "X-Autorespond";
  if (h.hasField("Precedence")) {
    const std::string v = first_word(raw_field(h, "Precedence"));
    if (v == "bulk" || v == "list" || v == "junk") return "Precedence: " + v;
  }
  if (h.hasField("List-Id")) return "List-Id";
  if (h.hasField("Return-Path")) {
    std::string v = raw_field(h, "Return-Path");
    std::string compact;
    for (char c : v)
      if (c != ' ' && c != '\t') compact.push_back(c);
    if (compact == "<>" || compact.empty()) return "null Return-Path (a bounce)";
  }
  if (media_type(h) == "multipart/report") return "multipart/report (a delivery or read report)";
  for (const auto& own : own_addresses)
    if (!own.empty() && lower(own) == from_email) return "From is our own address " + from_email;
  const std::string s = lower(subject);
  for (const char* prefix : kAutoReplySubjects)
    if (s.rfind(prefix, 0) == 0) return std::string("an out-of-office subject (") + prefix + ")";
  return {};
}

}  // namespace faxbridge::ingest::detail
