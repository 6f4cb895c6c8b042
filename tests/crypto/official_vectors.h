#ifndef WXGATE_TESTS_CRYPTO_OFFICIAL_VECTORS_H_
#define WXGATE_TESTS_CRYPTO_OFFICIAL_VECTORS_H_

// The official WeChat test vectors, verbatim from
// /work/shared/reference/wechat-api.md §7 (each re-verified there with sha1sum,
// openssl enc and python). Shared by the crypto, signature and identity tests
// and benchmarks. Generated from the reference text, not retyped.

#include <cstdint>

#include "absl/strings/string_view.h"

namespace wxgate::vectors {

// §7.1 JS-SDK signature (wx.config; same algorithm for wx.agentConfig).
inline constexpr absl::string_view kJsapiTicket =
    R"(sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg)";
inline constexpr absl::string_view kJsapiNonce = R"(Wm3WZYTPz0wzccnW)";
inline constexpr int64_t kJsapiTimestamp = 1414587457;
inline constexpr absl::string_view kJsapiUrl = R"(http://mp.weixin.qq.com?params=value)";
inline constexpr absl::string_view kJsapiString1 =
    R"(jsapi_ticket=sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg&noncestr=Wm3WZYTPz0wzccnW&timestamp=1414587457&url=http://mp.weixin.qq.com?params=value)";
inline constexpr absl::string_view kJsapiSignature = R"(0f9de62fce790f9a083d5c99e95740ceb90c27ed)";
// The older doc variant: no query string.
inline constexpr absl::string_view kJsapiLegacyUrl = R"(http://mp.weixin.qq.com)";
inline constexpr absl::string_view kJsapiLegacySignature =
    R"(f4d90daf4b3bca3078ab155816175ba34c443a7b)";

// §7.2 rawData signature: sha1(rawData + session_key as base64 text).
inline constexpr absl::string_view kRawData =
    R"({"nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"CN","avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/1vZvI39NWFQ9XM4LtQpFrQJ1xlgZxx3w7bQxKARol6503Iuswjjn6nIGBiaycAjAtpujxyzYsrztuuICqIM5ibXQ/0"})";
inline constexpr absl::string_view kRawDataSessionKey = R"(HyVFkGl5F5OQWJZZaNzBBg==)";
inline constexpr absl::string_view kRawDataSignature =
    R"(75e81ceda165f4ffa64f4068af58c64b8f54b88c)";

// §7.3 encryptedData (AES-128-CBC / PKCS#7): 400 bytes of ciphertext, pad 0x07.
inline constexpr absl::string_view kAppId = R"(wx4f4bc4dec97d474b)";
inline constexpr absl::string_view kSessionKey = R"(tiihtNczf5v6AKRyjwEUhQ==)";
inline constexpr absl::string_view kIv = R"(r7BXXKkLb8qrSNn05n0qiA==)";
inline constexpr absl::string_view kEncryptedData =
    R"(CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew==)";
inline constexpr absl::string_view kPlaintext =
    R"({"openId":"oGZUI0egBJY1zhBYw2KhdUfwVJJE","nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"CN","avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/aSKcBBPpibyKNicHNTMM0qJVh8Kjgiak2AHWr8MHM4WgMEm7GFhsf8OYrySdbvAMvTsw3mo8ibKicsnfN5pRjl1p8HQ/0","unionId":"ocMvos6NjeKLIBqg5Mr9QjxrP1FA","watermark":{"timestamp":1477314187,"appid":"wx4f4bc4dec97d474b"}})";
inline constexpr absl::string_view kOpenId = R"(oGZUI0egBJY1zhBYw2KhdUfwVJJE)";
inline constexpr absl::string_view kUnionId = R"(ocMvos6NjeKLIBqg5Mr9QjxrP1FA)";
inline constexpr int64_t kWatermarkTimestamp = 1477314187;

// §4 negative: WxJava WxMaCryptUtilsTest.testDecrypt. Standard AES-128-CBC
// ends in 0x28 there: invalid PKCS#7, never a positive vector.
inline constexpr absl::string_view kWxJavaSessionKey = R"(7MG7jbTToVVRWRXVA885rg==)";
inline constexpr absl::string_view kWxJavaIv = R"(TarMFjnzHVxy8pdS93wQbw==)";
inline constexpr absl::string_view kWxJavaEncryptedData =
    R"(BY6VOgcWbwGcyrunK0ECWI8rnDsT69DucZ+M78tc1aL9aM/3bEAHFYd4fu7kRjWhD4YfjObw44T9vUqKyHIjbKs6hvtEasZZEIW35x4a91xVgN48ZqZ7MTQqUlP13kDUlkuwYh+/8g8yceu4kNbjowYrhihx+SV7CfjKCveJ7TSepr5Z7aLv1o+rfeelfOwn++WN/YoQsuZ6S3L4fWlWe5DAAUnFUI6cJvxxCohVzbrVXhyH2AqQdSjH2WnMYFeaGFIbcoxMznlk7oEwFn+hBj63dyT/swdYQfEdzuyCBmKXy8d6l1RKVX6Y65coTD8kIlbr+FKsqYrXVUIUBSwehqYuOdhYWZ9Bntl5DWU1oqzAPCnMn2cAIoQpQPKP7IGSxMOvCNAMhVXbE7BvnWuVuGF+AM5tXAa9IVUhcMImGwLQqm4iV5uBd+5OcFObh3A4VJk9iBCBWSkBHa/rV9CVoY0bFv2F9/2Hv82++Ybl274=)";

}  // namespace wxgate::vectors

#endif  // WXGATE_TESTS_CRYPTO_OFFICIAL_VECTORS_H_
