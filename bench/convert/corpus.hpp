#pragma once
// The benchmark's corpora, generated (deterministic) as PDFs the way fax traffic looks:
// (a) 1-3 page letters, invoices, forms, scanned pages (grey JPEG with paper tone and
// noise, as a phone or office scanner makes them) and photo pages; (b) 20-50 page
// manuals of text and line drawings.
#include <string>
#include <vector>

namespace bench {

struct CorpusDocument {
  std::string name;
  std::string kind;   // letter | invoice | form | scan | photo | manual
  std::string pdf;
  int pages = 0;
  std::string text;   // the words on scanned pages, for the OCR comparison
};

std::vector<CorpusDocument> typical_traffic();  // corpus (a)
std::vector<CorpusDocument> long_documents();   // corpus (b)

}  // namespace bench
