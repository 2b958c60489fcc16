#pragma once
// Stores a received fax document page by page, off the media thread: TIFF Class F, each page
// compressed as asked with libtiff, into "<path>.part"; finish() settles the page numbers
// (n of total) and renames the file into place, so whoever looks at the spool sees the whole
// document or none. One owner thread at a time.
#include <optional>
#include <string>

#include "faxbridge/core/result.hpp"
#include "faxbridge/fax/session.hpp"

namespace faxbridge::fax {

class FaxDocumentWriter {
 public:
  FaxDocumentWriter(std::string path, StoreCompression compression);
  ~FaxDocumentWriter();  // an unfinished document is removed
  FaxDocumentWriter(const FaxDocumentWriter&) = delete;
  FaxDocumentWriter& operator=(const FaxDocumentWriter&) = delete;

  // The page's far_ident goes into its ImageDescription, where fax software looks for it.
  // After a page fails, the document is dropped and every later call returns that error:
  // a document with a page missing is never put in place as if it were whole.
  Result<void> add(const ReceivedPage& page);
  // Moves the document to `path`. Without a page nothing is written and nothing is moved.
  Result<void> finish();
  int pages() const { return pages_; }

 private:
  void discard();

  std::string path_;
  std::string part_;
  StoreCompression compression_;
  Result<void> fail(Error e);

  void* tiff_ = nullptr;  // TIFF*, kept out of this header
  std::optional<Error> failed_;
  int pages_ = 0;
};

}  // namespace faxbridge::fax
