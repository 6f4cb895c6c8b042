#include "server/crypto/sealer.h"

#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "server/crypto/base64.h"
#include "server/crypto/digest.h"
#include "server/crypto/random.h"

namespace wxgate::crypto {
namespace {

using ::testing::ElementsAre;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::SizeIs;

constexpr absl::string_view kAad =
    "wxgate:session:{wx4f4bc4dec97d474b}:oGZUI0egBJY1zhBYw2KhdUfwVJJE";
constexpr absl::string_view kValue = "HyVFkGl5F5OQWJZZaNzBBg==";

std::string NewKey() {
  absl::StatusOr<std::string> key = RandomBytes(Sealer::kKeySize);
  EXPECT_TRUE(key.ok());
  return *key;
}

// bytes(0..31): the key of the pinned answers below, computed outside wxgate.
std::string CountingKey() {
  std::string key(Sealer::kKeySize, '\0');
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<char>(i);
  return key;
}

std::unique_ptr<Sealer> MakeSealer(absl::string_view primary,
                                   const std::vector<std::string>& previous = {}) {
  absl::StatusOr<std::unique_ptr<Sealer>> sealer = Sealer::Create(primary, previous);
  EXPECT_TRUE(sealer.ok()) << sealer.status();
  return sealer.ok() ? *std::move(sealer) : nullptr;
}

// Every rendering of `key` a careless message could carry.
void ExpectNoKeyIn(const absl::Status& status, absl::string_view key) {
  const std::string text = status.ToString(absl::StatusToStringMode::kWithEverything);
  for (const std::string& form : {std::string(key), absl::BytesToHexString(key), Base64Encode(key),
                                  std::string(key.substr(0, 8))}) {
    EXPECT_FALSE(absl::StrContains(text, form)) << text;
  }
}

void ExpectError(const absl::Status& status, absl::StatusCode code, absl::string_view reason) {
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_EQ(ErrorReason(status), reason) << status;
}

TEST(SealerTest, RoundTrip) {
  const std::string key = NewKey();
  std::unique_ptr<Sealer> sealer = MakeSealer(key);
  ASSERT_NE(sealer, nullptr);
  for (const std::string& plaintext :
       {std::string(), std::string(kValue), std::string("a\0b\xff", 4), std::string(4096, 't')}) {
    const std::string sealed = sealer->Seal(plaintext, kAad);
    EXPECT_EQ(sealed.size(), plaintext.size() + Sealer::kOverhead);
    EXPECT_EQ(sealed[0], '\x01');
    EXPECT_EQ(absl::BytesToHexString(sealed.substr(1, 4)), sealer->primary_key_id());
    if (plaintext.size() > 4) {
      EXPECT_FALSE(absl::StrContains(sealed, plaintext));
    }
    absl::StatusOr<std::string> opened = sealer->Open(sealed, kAad);
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_EQ(*opened, plaintext);
  }
}

// The key id is the first 4 bytes of SHA-256(key); bytes(0..31) is pinned so
// that a reader of Redis (or a script) can compute it independently.
TEST(SealerTest, KeyIdsAreShaPrefixes) {
  const std::string other = NewKey();
  std::unique_ptr<Sealer> sealer = MakeSealer(CountingKey(), {other});
  ASSERT_NE(sealer, nullptr);
  EXPECT_EQ(sealer->primary_key_id(), "630dcd29");
  EXPECT_THAT(sealer->KeyIds(), ElementsAre("630dcd29", Sha256Hex(other).substr(0, 8)));
}

// The wire format, pinned by a value sealed outside wxgate (Python's
// cryptography AESGCM over key bytes(0..31), nonce bytes(0..11), and aad =
// header 01 630dcd29 then the Redis key): replicas of other builds, and
// anyone auditing Redis, read the same layout.
TEST(SealerTest, OpensTheDocumentedFormat) {
  std::unique_ptr<Sealer> sealer = MakeSealer(CountingKey());
  ASSERT_NE(sealer, nullptr);
  const std::string sealed = absl::HexStringToBytes(
      "01630dcd29000102030405060708090a0b0641955e96b69d4fc20ad2c5ff997fb4f1b1796e729a15e1429aa297");
  absl::StatusOr<std::string> opened = sealer->Open(sealed, "wxgate:token:{wx4f4bc4dec97d474b}");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, "ACCESS_TOKEN");
}

// A rotation: `before_` is a replica on the old key; `after_` one with the
// new key as primary and the old one as previous.
class SealerRotationTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(before_, nullptr);
    ASSERT_NE(after_, nullptr);
  }

  const std::string old_key_ = NewKey();
  const std::string new_key_ = NewKey();
  const std::unique_ptr<Sealer> before_ = MakeSealer(old_key_);
  const std::unique_ptr<Sealer> after_ = MakeSealer(new_key_, {old_key_});
};

// The rotated replica opens what the old one sealed, and seals under the new
// key, which the old replica cannot open and names.
TEST_F(SealerRotationTest, OpensUnderPreviousKeysAndNamesUnknownOnes) {
  absl::StatusOr<std::string> opened = after_->Open(before_->Seal(kValue, kAad), kAad);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, kValue);

  const std::string sealed = after_->Seal(kValue, kAad);
  EXPECT_EQ(absl::BytesToHexString(sealed.substr(1, 4)), after_->primary_key_id());
  const absl::Status unknown = before_->Open(sealed, kAad).status();
  ExpectError(unknown, absl::StatusCode::kFailedPrecondition, reason::kSealedKeyUnknown);
  EXPECT_EQ(unknown.message(), absl::StrCat("sealed with a key this replica does not hold (key id ",
                                            after_->primary_key_id(), ")"));
  EXPECT_THAT(
      GetErrorMetadata(unknown),
      ElementsAre(std::make_pair(std::string("key_id"), std::string(after_->primary_key_id()))));
  ExpectNoKeyIn(unknown, new_key_);
  ExpectNoKeyIn(unknown, old_key_);
}

// Tags per held key, primary first: the old replica's tag is the rotated
// one's second, so a compare-and-set recognises values across the rotation.
TEST_F(SealerRotationTest, TagsPerKeyPrimaryFirst) {
  const std::vector<std::string> tags = after_->Tags(kValue);
  ASSERT_THAT(tags, SizeIs(2));
  EXPECT_EQ(tags[0], after_->Tag(kValue));
  EXPECT_THAT(tags[0], MatchesRegex(absl::StrCat(after_->primary_key_id(), ":[0-9a-f]{32}")));
  EXPECT_EQ(tags[1], before_->Tag(kValue));
  EXPECT_NE(tags[0].substr(9), tags[1].substr(9));
  for (const std::string& tag : tags) {
    EXPECT_THAT(tag, Not(testing::HasSubstr(std::string(kValue))));
  }
}

// The aad binds a value to its Redis key: moved elsewhere, it does not open.
TEST(SealerTest, WrongAadFails) {
  const std::string key = NewKey();
  std::unique_ptr<Sealer> sealer = MakeSealer(key);
  ASSERT_NE(sealer, nullptr);
  const std::string sealed = sealer->Seal(kValue, kAad);
  for (absl::string_view aad : {absl::string_view(""), kAad.substr(1),
                                absl::string_view("wxgate:session:{wx4f4bc4dec97d474b}:other")}) {
    const absl::Status status = sealer->Open(sealed, aad).status();
    ExpectError(status, absl::StatusCode::kDataLoss, reason::kSealedValueNotAuthentic);
    ExpectNoKeyIn(status, key);
    EXPECT_FALSE(absl::StrContains(status.ToString(), kValue));
  }
}

// Any change to any one byte is refused, with the error its place implies:
// the format byte, the key id (no held key has the new one), or the rest
// (nonce, ciphertext, tag: authentication). So is every truncation.
TEST(SealerTest, EverySingleByteTamperFails) {
  const std::string key = NewKey();
  std::unique_ptr<Sealer> sealer = MakeSealer(key);
  ASSERT_NE(sealer, nullptr);
  const std::string sealed = sealer->Seal(kValue, kAad);
  for (size_t i = 0; i < sealed.size(); ++i) {
    for (int delta = 1; delta < 256; ++delta) {
      std::string tampered = sealed;
      tampered[i] = static_cast<char>(static_cast<uint8_t>(tampered[i]) ^ delta);
      const absl::Status status = sealer->Open(tampered, kAad).status();
      SCOPED_TRACE(testing::Message() << "byte " << i << " xor " << delta);
      if (i == 0) {
        ExpectError(status, absl::StatusCode::kDataLoss, reason::kSealedValueMalformed);
      } else if (i < 1 + Sealer::kKeyIdSize) {
        ExpectError(status, absl::StatusCode::kFailedPrecondition, reason::kSealedKeyUnknown);
      } else {
        ExpectError(status, absl::StatusCode::kDataLoss, reason::kSealedValueNotAuthentic);
      }
    }
  }
  for (size_t length = 0; length < sealed.size(); ++length) {
    const absl::Status status = sealer->Open(sealed.substr(0, length), kAad).status();
    SCOPED_TRACE(testing::Message() << "length " << length);
    ExpectError(status, absl::StatusCode::kDataLoss,
                length < Sealer::kOverhead ? reason::kSealedValueMalformed
                                           : reason::kSealedValueNotAuthentic);
  }
  ExpectError(sealer->Open(sealed + 'x', kAad).status(), absl::StatusCode::kDataLoss,
              reason::kSealedValueNotAuthentic);
}

TEST(SealerTest, NoncesAreFreshButTagsAreStable) {
  std::unique_ptr<Sealer> sealer = MakeSealer(NewKey(), {NewKey()});
  ASSERT_NE(sealer, nullptr);
  const std::string first = sealer->Seal(kValue, kAad);
  const std::string second = sealer->Seal(kValue, kAad);
  EXPECT_NE(first, second);
  EXPECT_NE(first.substr(5, 12), second.substr(5, 12));
  EXPECT_EQ(sealer->Tag(kValue), sealer->Tag(kValue));
  EXPECT_EQ(sealer->Tags(kValue), sealer->Tags(kValue));
  EXPECT_NE(sealer->Tag(kValue), sealer->Tag("another value"));
}

// A tag is "<key id>:<32 hex>", its construction pinned by an independent
// computation (Python's hmac: the first 16 bytes of HMAC-SHA256(
// HMAC-SHA256(key, "wxgate value tag"), value)), so a script can check it.
TEST(SealerTest, TagIsTheDocumentedHmac) {
  std::unique_ptr<Sealer> pinned = MakeSealer(CountingKey());
  ASSERT_NE(pinned, nullptr);
  EXPECT_EQ(pinned->Tag("ACCESS_TOKEN"), "630dcd29:fe81d4e4f711c47cff11c780d78f488e");
  EXPECT_EQ(pinned->Tags("ACCESS_TOKEN"),
            std::vector<std::string>{"630dcd29:fe81d4e4f711c47cff11c780d78f488e"});
}

TEST(SealerTest, RejectsKeysOfTheWrongLength) {
  const std::string good = NewKey();
  for (size_t size : {0, 1, 16, 24, 31, 33, 44, 64}) {
    absl::StatusOr<std::string> bad = RandomBytes(size);
    ASSERT_TRUE(bad.ok());
    const absl::Status as_primary = Sealer::Create(*bad, {}).status();
    ExpectError(as_primary, absl::StatusCode::kInvalidArgument, reason::kAesBadKeyLength);
    EXPECT_EQ(as_primary.message(), absl::StrCat("the primary key is ", size, " bytes, not 32"));
    const absl::Status as_previous = Sealer::Create(good, {NewKey(), *bad}).status();
    ExpectError(as_previous, absl::StatusCode::kInvalidArgument, reason::kAesBadKeyLength);
    EXPECT_EQ(as_previous.message(), absl::StrCat("previous key 2 is ", size, " bytes, not 32"));
    if (size >= 8) {
      ExpectNoKeyIn(as_primary, *bad);
      ExpectNoKeyIn(as_previous, *bad);
    }
  }
}

TEST(SealerTest, RejectsDuplicateKeys) {
  const std::string a = NewKey();
  const std::string b = NewKey();
  const absl::Status primary_again = Sealer::Create(a, {b, a}).status();
  ExpectError(primary_again, absl::StatusCode::kInvalidArgument, reason::kInvalidArgument);
  EXPECT_EQ(primary_again.message(),
            absl::StrCat("previous key 2 is the same key as the primary key (key id ",
                         Sha256Hex(a).substr(0, 8), ")"));
  ExpectNoKeyIn(primary_again, a);
  const absl::Status previous_twice = Sealer::Create(a, {b, b}).status();
  ExpectError(previous_twice, absl::StatusCode::kInvalidArgument, reason::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(previous_twice.message(),
                                "previous key 2 is the same key as previous key 1"))
      << previous_twice;
  ExpectNoKeyIn(previous_twice, b);
}

// Two different keys whose SHA-256 share their first 4 bytes (de54a5fb),
// found by a birthday search over SHA-256("wxgate collision <n>"): a sealed
// value could not say which of them sealed it.
TEST(SealerTest, RejectsCollidingKeyIds) {
  const std::string a =
      absl::HexStringToBytes("b4c4d62785a7a41c4e6977b409c1498936dfb98927dd21ac319700b1a54d0f45");
  const std::string b =
      absl::HexStringToBytes("1aeb82a9b79e22ec8a9ab7ddfa567460ab879a13d8be5d2557b3fa189b11273d");
  ASSERT_NE(a, b);
  ASSERT_EQ(Sha256Hex(a).substr(0, 8), Sha256Hex(b).substr(0, 8));
  const absl::Status status = Sealer::Create(a, {b}).status();
  ExpectError(status, absl::StatusCode::kInvalidArgument, reason::kInvalidArgument);
  EXPECT_EQ(status.message(), "previous key 1 has the key id of the primary key (key id de54a5fb)");
  ExpectNoKeyIn(status, a);
  ExpectNoKeyIn(status, b);
}

// One Sealer shared by threads (as the stores share it): every seal opens,
// with distinct nonces. Run under TSan by scripts/test --sanitize=thread.
TEST(SealerTest, SharedAcrossThreads) {
  std::unique_ptr<Sealer> sealer = MakeSealer(NewKey(), {NewKey()});
  ASSERT_NE(sealer, nullptr);
  constexpr int kThreads = 4;
  constexpr int kSeals = 200;
  std::vector<std::vector<std::string>> sealed(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&sealer, &sealed, t] {
      for (int i = 0; i < kSeals; ++i) {
        const std::string value = absl::StrCat("value ", t, " ", i);
        sealed[t].push_back(sealer->Seal(value, kAad));
        absl::StatusOr<std::string> opened = sealer->Open(sealed[t].back(), kAad);
        if (!opened.ok() || *opened != value || sealer->Tag(value) != sealer->Tags(value)[0]) {
          ADD_FAILURE() << "thread " << t << " seal " << i;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::set<std::string> nonces;
  for (const std::vector<std::string>& values : sealed) {
    for (const std::string& value : values) nonces.insert(value.substr(5, 12));
  }
  EXPECT_EQ(nonces.size(), size_t{kThreads * kSeals});
}

}  // namespace
}  // namespace wxgate::crypto
