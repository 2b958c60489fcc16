// The built-in mail templates and their rendering: every kind in English and Italian,
// escaping decided by the part (HTML escaped, text as is, subject on one line), lists,
// and a template that does not parse.
#include "faxbridge/notifier/templates.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

namespace faxbridge::notifier {
namespace {

const std::vector<std::string> kMailKinds = {"admin_alert",    "enqueued_receipt", "failed_incoming_call",
                                             "failure_receipt", "fax_to_email",    "ingest_refused",
                                             "return_receipt", "send_refused"};

TEST(MailTemplates, EveryMailKindShipsInEnglishAndItalianWithThreePartsThatParse) {
  EXPECT_EQ(template_names(), kMailKinds);
  EXPECT_EQ(template_languages(), (std::vector<std::string>{"en", "it"}));
  for (const auto& name : kMailKinds) {
    for (const auto* language : {"en", "it"}) {
      auto set = builtin_template(name, language);
      ASSERT_TRUE(set) << name << " " << language;
      EXPECT_FALSE(set->subject.empty()) << name << " " << language;
      EXPECT_FALSE(set->text.empty()) << name << " " << language;
      EXPECT_NE(set->html.find("<html"), std::string::npos) << name << " " << language;
      auto checked = check_template(*set);
      EXPECT_TRUE(checked) << name << " " << language << ": " << checked.error().to_string();
    }
  }
  EXPECT_FALSE(builtin_template("fax_to_email", "fr"));
  EXPECT_FALSE(builtin_template("no_such_mail", "en"));
}

TEST(MailTemplates, TheHtmlPartGetsEscapedValuesTheTextPartTheValueAsItIs) {
  TemplateSet set{"Fax from {{CALLER}}", "From: {{CALLER}}\n", "<p>From: {{CALLER}}</p>"};
  TemplateValues v;
  v.fields["CALLER"] = "<script>alert('x')</script> & Co";
  auto r = render(set, v);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->text, "From: <script>alert('x')</script> & Co\n");
  EXPECT_EQ(r->html, "<p>From: &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co</p>");
}

TEST(MailTemplates, TheSubjectIsOneLineWhateverTheValuesHold) {
  TemplateSet set{"Fax {{SUBJECT}}\n", "x", ""};
  TemplateValues v;
  v.fields["SUBJECT"] = "one\r\nBcc: victim@example.test";
  auto r = render(set, v);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->subject, "Fax one  Bcc: victim@example.test");
  EXPECT_EQ(r->subject.find('\n'), std::string::npos);
  EXPECT_TRUE(r->html.empty());
}

TEST(MailTemplates, SectionsShowWhenSetAndListsRepeatPerEntry) {
  TemplateSet set{"s", "{{#PARTIAL}}partial {{/PARTIAL}}{{#ATTEMPTS}}[{{NUMBER}}: {{RESULT}}]{{/ATTEMPTS}}{{MISSING}}.",
                  ""};
  TemplateValues v;
  v.lists["ATTEMPTS"] = {{{"NUMBER", "1"}, {"RESULT", "busy"}}, {{"NUMBER", "2"}, {"RESULT", "sent, 2 pages"}}};
  auto r = render(set, v);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text, "[1: busy][2: sent, 2 pages].");
  v.sections.insert("PARTIAL");
  EXPECT_EQ(render(set, v)->text, "partial [1: busy][2: sent, 2 pages].");
}

TEST(MailTemplates, ATemplateThatDoesNotParseIsRefusedNamingThePart) {
  TemplateSet set{"ok", "{{#ATTEMPTS}} never closed", "<p>fine</p>"};
  auto r = check_template(set);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::k_template_invalid);
  EXPECT_NE(r.error().message.find("text part"), std::string::npos) << r.error().message;
  EXPECT_EQ(render(set, {}).error().code, Code::k_template_invalid);
}

TEST(MailTemplates, TheItalianFaxToEmailSpeaksItalian) {
  auto set = builtin_template("fax_to_email", "it");
  ASSERT_TRUE(set);
  TemplateValues v;
  v.fields["CALLER"] = "+4930123456";
  v.fields["PAGES"] = "2";
  v.fields["REFERENCE"] = "2026.00000042";
  v.sections.insert("HAS_ATTACHMENT");
  v.fields["FORMAT"] = "PDF";
  auto r = render(*set, v);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->subject, "Fax da +4930123456, 2 pagina/e, 2026.00000042");
  EXPECT_NE(r->text.find("Il fax è allegato in formato PDF"), std::string::npos) << r->text;
}

// Every marker a built-in template uses is one the notifier sets (the sample values use
// the same names as mail_content.cpp), so no shipped mail has a hole in it.
TEST(MailTemplates, EveryMarkerOfTheBuiltInTemplatesIsAValueTheNotifierSets) {
  const std::regex marker(R"(\{\{([#/]?)([A-Z_]+)\}\})");
  for (const auto& name : kMailKinds) {
    for (const auto* language : {"en", "it"}) {
      auto set = builtin_template(name, language);
      ASSERT_TRUE(set);
      TemplateValues v = sample_values(name, language);
      // Sections the real mails set in other cases than the sample's.
      for (const char* s : {"FAILED", "PARTIAL", "PDF_MISSING", "NO_ATTACHMENT", "HAS_THUMBNAIL", "SCHEDULED",
                            "HAS_ATTACHMENT", "REMOTE_STATION", "RECIPIENT_NAMED", "COMPANY", "HAS_REFERENCE"})
        v.sections.insert(s);
      for (const char* f : {"SUBJECT_LINE", "THUMBNAIL_CID", "PDF_ERROR", "SCHEDULED_AT"}) v.fields[f] = "x";
      for (const std::string* part : {&set->subject, &set->text, &set->html}) {
        for (std::sregex_iterator it(part->begin(), part->end(), marker), end; it != end; ++it) {
          const std::string kind = (*it)[1], id = (*it)[2];
          const bool known = kind.empty() ? (v.fields.count(id) > 0 || id == "NUMBER" || id == "STARTED_AT" ||
                                             id == "RESULT")
                                          : (v.sections.count(id) > 0 || v.lists.count(id) > 0);
          EXPECT_TRUE(known) << name << "/" << language << " uses {{" << kind << id << "}}";
        }
      }
      auto r = render(*set, sample_values(name, language));
      ASSERT_TRUE(r) << name << "/" << language;
      EXPECT_EQ(r->html.find("{{"), std::string::npos) << name << "/" << language;
    }
  }
}

}  // namespace
}  // namespace faxbridge::notifier
