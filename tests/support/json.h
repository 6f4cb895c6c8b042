#ifndef WXGATE_TESTS_SUPPORT_JSON_H_
#define WXGATE_TESTS_SUPPORT_JSON_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "simdjson.h"

namespace wxgate::test {

// Appends `s` to `out` as a JSON string literal, quotes included. Control
// characters are escaped; bytes that are not valid UTF-8 become U+FFFD so the
// output is always valid JSON.
void AppendJsonString(std::string& out, absl::string_view s);

// `s` as a JSON string literal, quotes included.
std::string JsonQuote(absl::string_view s);

// Writes JSON text by hand, in order, with commas placed for the caller.
// Misuse (a value where a key is due) is the caller's bug and yields invalid
// JSON rather than a crash.
class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(absl::string_view key);
  JsonWriter& String(absl::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // Inserts already-valid JSON text as one value.
  JsonWriter& Raw(absl::string_view json);

  // Key followed by a value, the common case.
  JsonWriter& Field(absl::string_view key, absl::string_view value) {
    return Key(key).String(value);
  }
  JsonWriter& Field(absl::string_view key, const char* value) { return Key(key).String(value); }
  JsonWriter& Field(absl::string_view key, const std::string& value) {
    return Key(key).String(value);
  }
  JsonWriter& Field(absl::string_view key, int64_t value) { return Key(key).Int(value); }
  JsonWriter& Field(absl::string_view key, int value) { return Key(key).Int(value); }
  JsonWriter& Field(absl::string_view key, bool value) { return Key(key).Bool(value); }

  const std::string& text() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BeforeValue();

  std::string out_;
  // One entry per open object/array: whether it already holds an element.
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

// A parsed JSON document (simdjson DOM) that owns its parser, so it can be
// moved around and returned. Lookups take RFC 6901 JSON pointers such as
// "/phone_info/watermark/appid" or "/follow_user/0/userid"; "" is the root.
class JsonDoc {
 public:
  // Returned by Int() when the value is absent or not an integer.
  static constexpr int64_t kNoInt = std::numeric_limits<int64_t>::min();

  static absl::StatusOr<JsonDoc> Parse(absl::string_view text);

  JsonDoc() = default;
  JsonDoc(JsonDoc&&) = default;
  JsonDoc& operator=(JsonDoc&&) = default;

  // Typed lookups: NOT_FOUND when absent, INVALID_ARGUMENT on a wrong type.
  absl::StatusOr<std::string> GetString(absl::string_view pointer) const;
  absl::StatusOr<int64_t> GetInt(absl::string_view pointer) const;
  absl::StatusOr<bool> GetBool(absl::string_view pointer) const;
  absl::StatusOr<simdjson::dom::element> Get(absl::string_view pointer) const;

  // Lenient lookups for tests: "" / kNoInt / false when absent or mistyped.
  std::string Str(absl::string_view pointer) const;
  int64_t Int(absl::string_view pointer) const;
  bool Has(absl::string_view pointer) const;
  // The value at `pointer` as minified JSON, "" when absent.
  std::string Json(absl::string_view pointer = "") const;
  // Number of elements of the array (or fields of the object) at `pointer`; 0 when absent.
  size_t Size(absl::string_view pointer) const;
  // The keys of the object at `pointer`, in the document's order; none when
  // absent or not an object.
  std::vector<std::string> Keys(absl::string_view pointer = "") const;

  const std::string& text() const { return text_; }
  bool empty() const { return parser_ == nullptr; }

 private:
  std::string text_;
  // Behind a pointer: elements point into the parser, which must not move.
  std::unique_ptr<simdjson::dom::parser> parser_;
  simdjson::dom::element root_;
};

}  // namespace wxgate::test

#endif  // WXGATE_TESTS_SUPPORT_JSON_H_
