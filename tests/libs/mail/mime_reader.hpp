#pragma once
// Reads a message the way a mail client would, through Python's email package
// (mime_dump.py): an implementation independent of vmime, which wrote it.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace faxbridge::mail::testing {

// save_dir: also write each leaf part's decoded bytes there, as <n> in the order of "parts".
inline nlohmann::json read_as_client(const std::string& message, const std::string& save_dir = {}) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("mime-" + std::to_string(::getpid()) + "-" + std::to_string(std::hash<std::string>{}(message)) + ".eml");
  {
    std::ofstream out(path, std::ios::binary);
    out << message;
  }
  const std::string command = std::string("/usr/bin/python3 ") + FAXBRIDGE_MIME_DUMP + " " + save_dir + " < " + path.string();
  std::string text;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
    ::pclose(p);
  }
  std::filesystem::remove(path);
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

inline std::string sha256_of(const std::string& bytes) {
  const auto path = std::filesystem::temp_directory_path() / ("sha-" + std::to_string(::getpid()) + ".bin");
  {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
  }
  std::string text;
  if (FILE* p = ::popen(("sha256sum " + path.string()).c_str(), "r")) {
    char buf[256];
    if (std::fgets(buf, sizeof buf, p)) text = buf;
    ::pclose(p);
  }
  std::filesystem::remove(path);
  return text.substr(0, 64);
}

}  // namespace faxbridge::mail::testing
