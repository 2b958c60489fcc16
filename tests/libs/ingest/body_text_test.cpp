// The cover note's text: HTML made text by gumbo (blocks, breaks, lists, entities, no
// head/script/style, quoted blocks out), and quotes and signatures cut from plain text.
#include "faxbridge/ingest/body_text.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace faxbridge::ingest {
namespace {

TEST(HtmlToText, KeepsParagraphsBreaksAndListsAndDecodesEntities) {
  const std::string html =
      "<html><head><title>T</title><style>p{color:red}</style><script>alert(1)</script></head><body>"
      "<p>Dear   Anna,</p><p>please find the\n contract &amp; the annex.<br>Thanks</p>"
      "<ul><li>one</li><li>two</li></ul><div>Caf&eacute; &lt;ok&gt;</div></body></html>";
  EXPECT_EQ(html_to_text(html), "Dear Anna,\n\nplease find the contract & the annex.\nThanks\n\n- one\n- two\nCafé <ok>\n");
}

TEST(HtmlToText, LeavesQuotedRepliesAndSignatureBlocksOut) {
  const std::string html =
      "<div dir=\"ltr\">See attached.</div><div class=\"gmail_signature\">Anna Rossi<br>Sales</div>"
      "<div class=\"gmail_quote\">On Mon, Bob wrote:<blockquote>old text</blockquote></div>"
      "<blockquote type=\"cite\">more old text</blockquote><p>P.S. page 2 too</p>";
  EXPECT_EQ(html_to_text(html), "See attached.\n\nP.S. page 2 too\n");
}

TEST(HtmlToText, KeepsPreformattedLinesAndSurvivesDeepNestingAndGarbage) {
  EXPECT_EQ(html_to_text("<pre>a  b\n  c</pre>"), "a  b\n  c\n");
  std::string deep;
  for (int i = 0; i < 3900; ++i) deep += "<div>";
  EXPECT_EQ(html_to_text(deep + "deep"), "deep\n");
  // Deeper than the parser can take in time: cut, and quickly.
  for (int i = 0; i < 16100; ++i) deep += "<div>";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(html_to_text(deep + "deep"), "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(html_to_text("<<<>>><p>ok</b></i></p></div>"), "<<<>>>\n\nok\n");
  EXPECT_EQ(html_to_text(""), "");
}

TEST(HtmlToText, FindsTheImagesItShowsByContentId) {
  const auto ids = html_cid_references("<p><img src=\"cid:logo@x\"><img src=\"https://t.example/p.gif\"></p>");
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0], "logo@x");
}

TEST(StripQuotesAndSignature, CutsTheSignatureAtDashDashSpace) {
  EXPECT_EQ(strip_quotes_and_signature("Please fax this.\r\n\r\n-- \r\nAnna Rossi\r\n+39 02 1234\r\n"),
            "Please fax this.\n");
  EXPECT_EQ(strip_quotes_and_signature("Text\n--\nsig"), "Text\n");
  // Not a signature separator: dashes within text.
  EXPECT_EQ(strip_quotes_and_signature("a -- b\n---\nc"), "a -- b\n---\nc\n");
}

TEST(StripQuotesAndSignature, LeavesQuotedRepliesAndTheirIntroductionOut) {
  EXPECT_EQ(strip_quotes_and_signature("New text.\n\nOn Mon, 1 Dec 2026, Bob <b@x> wrote:\n> old\n> older\n"),
            "New text.\n");
  EXPECT_EQ(strip_quotes_and_signature("Sure.\n\n-----Original Message-----\nFrom: Bob\nold"), "Sure.\n");
  EXPECT_EQ(strip_quotes_and_signature("Sure.\n________________________________\nFrom: Bob\nold"), "Sure.\n");
  // A line ending in "wrote:" that quotes nothing is the sender's own text.
  EXPECT_EQ(strip_quotes_and_signature("This is what he wrote:\nthe terms are fine"),
            "This is what he wrote:\nthe terms are fine\n");
}

TEST(StripQuotesAndSignature, CollapsesBlankLinesAndTrims) {
  EXPECT_EQ(strip_quotes_and_signature("\n\n  a  \n\n\n\nb\n\n"), "  a\n\nb\n");
  EXPECT_EQ(strip_quotes_and_signature(""), "");
}

}  // namespace
}  // namespace faxbridge::ingest
