// Fax recipients from To and Cc (recipients.hpp).
#include "recipients.hpp"

#include <set>

#include "vmime_text.hpp"

namespace faxbridge::ingest::detail {
namespace {

void mailboxes_of(const vmime::header& h, const char* field, std::vector<std::shared_ptr<const vmime::mailbox>>& out) {
  for (const auto& f : const_cast<vmime::header&>(h).findAllFields(field)) {
    auto list = vmime::dynamicCast<vmime::addressList>(f->getValue());
    if (!list) continue;
    for (std::size_t i = 0; i < list->getAddressCount(); ++i) {
      auto a = list->getAddressAt(i);
      if (a->isGroup()) {
        auto g = vmime::dynamicCast<const vmime::mailboxGroup>(a);
        for (std::size_t k = 0; g && k < g->getMailboxCount(); ++k) out.push_back(g->getMailboxAt(k));
      } else if (auto m = vmime::dynamicCast<const vmime::mailbox>(a)) {
        out.push_back(m);
      }
    }
  }
}

}  // namespace

std::string display_name(const vmime::mailbox& m) {
  std::string out;
  for (const auto& w : m.getName().getWordList()) out += to_utf8(w->getBuffer(), w->getCharset().getName());
  return trim(out);
}

Result<std::vector<FaxRecipient>> fax_recipients(const vmime::header& h, const IngestSettings& settings) {
  std::vector<std::shared_ptr<const vmime::mailbox>> all;
  mailboxes_of(h, "To", all);
  mailboxes_of(h, "Cc", all);
  std::set<std::string> domains;
  for (const auto& d : settings.fax_domains) domains.insert(lower(trim(d)));

  struct Candidate {
    std::string local, address, name;
  };
  std::vector<Candidate> candidates;
  for (const auto& m : all) {
    const std::string domain = lower(m->getEmail().getDomainName().getBuffer());
    if (!domains.count(domain)) continue;
    const std::string local = m->getEmail().getLocalName().getBuffer();
    candidates.push_back({local, local + "@" + domain, display_name(*m)});
  }
  // Counted before any number is read: 10,000 recipients cost no more than 51.
  if (candidates.size() > settings.max_recipients)
    return Error(Code::k_ingest_too_many_recipients,
                 "The mail names " + std::to_string(candidates.size()) + " fax recipients; one mail may name at most " +
                     std::to_string(settings.max_recipients) + ". Send it in several mails.")
        .with("recipients", std::to_string(candidates.size()));
  if (candidates.empty()) {
    std::string names;
    for (const auto& d : settings.fax_domains) names += (names.empty() ? "" : " or ") + ("<number>@" + d);
    return Error(Code::k_ingest_no_valid_number,
                 "The mail has no fax recipient: write to " + (names.empty() ? std::string("<number>@<fax domain>") : names) +
                     ", for example 0212345678@" + (settings.fax_domains.empty() ? "fax" : settings.fax_domains[0]) + ".");
  }
  std::vector<FaxRecipient> out;
  std::set<std::string> seen;
  std::string invalid;
  for (const auto& c : candidates) {
    auto number = normalize_phone(c.local, settings.dial_plan);
    if (!number) {
      invalid += (invalid.empty() ? "" : ", ") + c.address;
      continue;
    }
    if (!seen.insert(number->canonical).second) continue;
    out.push_back({number->canonical, c.address, c.name});
  }
  if (!invalid.empty())
    return Error(Code::k_ingest_no_valid_number,
                 "Not a fax number: " + invalid + ". Write the number before the @, digits only (a leading + for "
                 "an international number); nothing was sent.")
        .with("invalid", invalid);
  return out;
}

}  // namespace faxbridge::ingest::detail
