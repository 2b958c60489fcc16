// Sample values for template previews (templates.hpp): the names mail_content.cpp sets,
// with made-up facts of a plausible fax. Kept beside the real ones' names by the
// templates test, which renders every built-in template with them.
#include "faxbridge/notifier/templates.hpp"

namespace faxbridge::notifier {

TemplateValues sample_values(const std::string& name, const std::string& language) {
  const bool it = language == "it";
  TemplateValues v;
  auto& f = v.fields;
  f["COMPANY_NAME"] = "ACME S.p.A.";
  v.sections.insert("COMPANY");
  f["DATE"] = "2026-12-02 09:15 UTC";
  f["USER_NAME"] = "Alice Example";
  f["REFERENCE"] = "2026.00001234";
  v.sections.insert("HAS_REFERENCE");
  if (name == "fax_to_email" || name == "failed_incoming_call") {
    f["CALLER"] = "+4930123456";
    f["REMOTE_STATION_ID"] = "ACME BERLIN";
    v.sections.insert("REMOTE_STATION");
    f["CALLED"] = "+390297865403";
    f["PAGES"] = "3";
    f["DURATION"] = "1 min 12 s";
    f["RECEIVED_AT"] = "2026-12-02 09:14 UTC";
    f["FORMAT"] = "PDF";
    f["ATTACHMENT_NAME"] = "fax-2026.00001234.pdf";
    f["ERROR_CODE"] = "fax.no_pages";
    v.sections.insert("HAS_ATTACHMENT");
  } else if (name == "admin_alert") {
    f["ALERT_CODE"] = "route.none";
    f["ALERT_MESSAGE"] = it ? "Nessuna route predefinita: i fax non possono essere inviati."
                            : "No default route is set: faxes cannot be sent until one is.";
    f["ALERT_INTERVAL"] = "60";
  } else {
    f["RECIPIENT"] = "+390212345678";
    f["RECIPIENT_NAME"] = "Mario Rossi";
    v.sections.insert("RECIPIENT_NAMED");
    f["SUBJECT"] = it ? "Offerta" : "Quotation";
    f["SUBJECT_OR_REFERENCE"] = f["SUBJECT"];
    f["PAGES_SENT"] = "2";
    f["PAGE_COUNT"] = "3";
    f["COMPLETED_AT"] = "2026-12-02 09:15 UTC";
    f["ERROR_CODE"] = "fax.t30_failed";
    f["ERROR_TEXT"] = it ? "La linea è caduta durante la pagina 3." : "The line dropped during page 3.";
    v.sections.insert("PARTIAL");
    v.lists["ATTEMPTS"] = {
        {{"NUMBER", "1"}, {"STARTED_AT", "2026-12-02 09:05 UTC"}, {"RESULT", it ? "occupato (SIP 486)" : "busy (SIP 486)"}},
        {{"NUMBER", "2"},
         {"STARTED_AT", "2026-12-02 09:13 UTC"},
         {"RESULT", it ? "inviato in parte, 2 pagine" : "partially sent, 2 pages"}}};
  }
  return v;
}

}  // namespace faxbridge::notifier
