// DESIGN: the steps of reading a mail to fax, cheapest and most decisive first, each a
// refusal with a sentence for the sender: the size and the raw header lines are checked
// before vmime parses anything (a 1 MB header line or thousands of nested boundaries
// never reach the parser); then whether a machine wrote it (loop_guard: such mail is
// never answered, so it is decided before anything that would answer); the sender and,
// when required, its authentication; the recipients; and last the body and attachments
// (mime_walk), the only step that decodes content. vmime's exceptions end at this
// file's boundary as ingest.malformed.
#include "faxbridge/ingest/fax_request.hpp"

#include "faxbridge/ingest/authentication_results.hpp"
#include "faxbridge/ingest/body_text.hpp"
#include "loop_guard.hpp"
#include "mime_walk.hpp"
#include "recipients.hpp"
#include "subject_tags.hpp"
#include "vmime_text.hpp"

namespace faxbridge::ingest {
namespace {

// More multipart boundaries than any mail program writes (a mail with 20 attachments
// has one); the backstop keeps vmime's recursive parser off a hostile nesting.
constexpr std::size_t kMaxBoundaries = 100;

Result<void> check_raw(std::string_view raw, const IngestSettings& s) {
  if (raw.size() > s.max_message_bytes)
    return Error(Code::k_ingest_too_large, "The mail is " + std::to_string(raw.size()) +
                                               " bytes; a mail to fax may have at most " +
                                               std::to_string(s.max_message_bytes) + ".");
  std::size_t at = 0;
  while (at < raw.size()) {
    std::size_t nl = raw.find('\n', at);
    if (nl == std::string_view::npos) nl = raw.size();
    std::size_t len = nl - at;
    if (len > 0 && raw[at + len - 1] == '\r') --len;
    if (len == 0) break;  // the end of the header section
    if (len > s.max_header_line_bytes)
      return Error(Code::k_ingest_malformed, "A header line of the mail is " + std::to_string(len) +
                                                 " bytes long; mail lines have at most 998 (RFC 5322). "
                                                 "The mail cannot be read.");
    at = nl + 1;
  }
  std::size_t boundaries = 0;
  const std::string_view key = "boundary=";
  for (std::size_t i = 0; i + key.size() <= raw.size(); ++i) {
    std::size_t k = 0;
    while (k < key.size() && std::tolower(static_cast<unsigned char>(raw[i + k])) == key[k]) ++k;
    if (k == key.size() && ++boundaries > kMaxBoundaries)
      return Error(Code::k_ingest_malformed,
                   "The mail has more than " + std::to_string(kMaxBoundaries) + " multipart parts; it cannot be read.");
  }
  return {};
}

}  // namespace

Result<FaxRequest> parse_fax_request(std::string_view raw, const IngestSettings& s) {
  if (auto r = check_raw(raw, s); !r) return r.error();
  FaxRequest out;
  auto refuse = [&out](Error e) -> Error {
    if (!out.sender_email.empty()) e.with("sender", out.sender_email);
    return e;
  };
  try {
    const std::string buffer(raw);
    vmime::message message;
    message.parse(buffer);
    const vmime::header& h = *message.getHeader();

    if (auto from = h.findField("From")) {
      if (auto m = vmime::dynamicCast<vmime::mailbox>(from->getValue())) {
        const std::string local = m->getEmail().getLocalName().getBuffer();
        const std::string domain = detail::lower(m->getEmail().getDomainName().getBuffer());
        if (!local.empty() && !domain.empty()) {
          out.sender_email = detail::lower(local) + "@" + domain;
          out.sender_name = detail::display_name(*m);
        }
      }
    }
    const std::string subject = detail::text_field(h, "Subject");
    if (const std::string why = detail::automatic_reason(h, out.sender_email, subject, s.own_addresses); !why.empty())
      return refuse(Error(Code::k_ingest_automatic_message,
                          "The mail was written by a machine (" + why + "); it is neither faxed nor answered.")
                        .with("reason", why));
    if (out.sender_email.empty())
      return Error(Code::k_ingest_no_sender, "The mail has no sender address (From) that can be read.");

    if (s.require_authentication) {
      // The header in order, top first: which trusted fields count depends on where
      // they stand relative to the Received fields (authentication_results.hpp).
      std::vector<HeaderField> fields;
      for (const auto& f : const_cast<vmime::header&>(h).getFieldList()) {
        HeaderField field{f->getName(), {}};
        if (detail::lower(field.name) == "authentication-results") {
          auto t = vmime::dynamicCast<const vmime::text>(f->getValue());
          field.value = t ? t->getWholeBuffer() : f->getValue()->generate();
        }
        fields.push_back(std::move(field));
      }
      const std::vector<std::string> results = trusted_results(fields, s.trusted_authserv_id);
      const std::string domain = out.sender_email.substr(out.sender_email.find('@') + 1);
      if (!sender_authenticated(results, s.trusted_authserv_id, domain, &out.authenticated_by))
        return refuse(Error(Code::k_ingest_sender_not_authenticated,
                            "The mail server " + s.trusted_authserv_id + " could not confirm that the mail comes from " +
                                domain + " (no DKIM signature of " + domain +
                                " and no SPF pass aligned with it), so it is not faxed. Send it from your own "
                                "mail account."));
    }

    auto recipients = detail::fax_recipients(h, s);
    if (!recipients) return refuse(std::move(recipients).error());
    out.recipients = std::move(*recipients);

    const auto tags = detail::parse_subject_tags(subject);
    out.subject = tags.subject;
    out.cover = tags.cover;
    out.cover_name = tags.cover_name;

    auto walked = detail::walk_body(buffer, message, s);
    if (!walked) return refuse(std::move(walked).error());
    std::string text = !detail::trim(walked->plain).empty() ? strip_quotes_and_signature(walked->plain)
                       : !walked->html.empty()               ? html_to_text(walked->html)
                                                             : std::string();
    out.documents = std::move(walked->documents);
    if (out.documents.empty()) {
      if (detail::trim(text).empty())
        return refuse(Error(Code::k_ingest_nothing_to_send,
                            "The mail has neither text nor an attachment, so there is nothing to fax."));
      out.documents.push_back({"message.txt", "text/plain", std::move(text)});
      out.body_is_document = true;
    } else {
      out.note = std::move(text);
    }

    std::string id = detail::raw_field(h, "Message-ID");
    if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
    out.message_id = id;
    return out;
  } catch (const std::exception& e) {
    return refuse(Error(Code::k_ingest_malformed,
                        std::string("The mail could not be read (") + e.what() + "). Send it again from your mail program."));
  }
}

}  // namespace faxbridge::ingest
