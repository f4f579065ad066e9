import FerryCore
import FerryJSON
import FerrySigning

/// Signature verification with FerrySigning: the emulator recomputes each request's signature with the secret
/// of the access key it names, over the exact bytes it received.
enum Auth {
    /// Verifies an Alibaba ACS3-HMAC-SHA256 request. Returns the access key id, or the gateway's error.
    /// `nonceSeen` reports (and remembers) a nonce; it runs only after the signature checks out.
    static func alibaba(_ req: EmulatorRequest, keys: [EmulatorAccessKey], realNow: Double, maxSkew: Double,
                        nonceSeen: (String) -> Bool) -> Result<String, ProviderError> {
        guard let header = req.header("authorization") else {
            if req.header("x-acs-bearer-token") != nil {
                return .failure(ProviderError(400, "InvalidAuthorization", "Bearer tokens are not accepted by this endpoint.", gateway: true))
            }
            return .failure(Errors.aliIncompleteSignature("The Authorization header is missing."))
        }
        guard let auth = ACS3Signer.parseAuthorization(header) else {
            return .failure(Errors.aliIncompleteSignature("The Authorization header is malformed."))
        }
        guard let key = keys.first(where: { $0.id == auth.accessKeyID && $0.provider != "huawei" }) else {
            return .failure(Errors.aliAccessKeyNotFound())
        }
        let signed = Set(auth.signedHeaders)
        for h in ["host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"] {
            guard signed.contains(h), req.header(h) != nil else {
                return .failure(Errors.aliIncompleteSignature("Header \(h) must be present and signed."))
            }
        }
        if req.header("content-type") != nil && !signed.contains("content-type") {
            return .failure(Errors.aliIncompleteSignature("Header content-type must be signed."))
        }
        for h in signed where req.header(h) == nil {
            return .failure(Errors.aliIncompleteSignature("Signed header \(h) is missing from the request."))
        }
        guard let dateText = req.header("x-acs-date"), let date = SigningClock.parseAcsDate(dateText) else {
            return .failure(ProviderError(400, "InvalidTimeStamp.Format",
                                          "Specified time stamp or date value is not well formatted.", gateway: true))
        }
        guard abs(realNow - Double(date)) <= maxSkew else { return .failure(Errors.aliExpired()) }
        let signable = SignableRequest(method: req.method, target: req.target, headers: req.headers, body: req.body)
        guard req.header("x-acs-content-sha256") == ACS3Signer.hashedPayload(req.body) else {
            return .failure(Errors.aliSignatureMismatch())
        }
        guard ACS3Signer.verify(signable, authorization: auth, secret: key.secret).valid else {
            return .failure(Errors.aliSignatureMismatch())
        }
        if let nonce = req.header("x-acs-signature-nonce"), nonceSeen(nonce) {
            return .failure(Errors.aliNonceUsed())
        }
        return .success(key.id)
    }

    /// Verifies a Huawei SDK-HMAC-SHA256 request against the path's project.
    static func huawei(_ req: EmulatorRequest, project: String?, configuredProject: String?, keys: [EmulatorAccessKey],
                       realNow: Double, maxSkew: Double) -> Result<String, ProviderError> {
        guard let header = req.header("authorization") else {
            return .failure(Errors.hwAuth("the Authorization header is missing"))
        }
        guard let auth = HuaweiSigner.parseAuthorization(header) else {
            return .failure(Errors.hwAuth("the Authorization header is malformed"))
        }
        guard let key = keys.first(where: { $0.id == auth.accessKeyID && $0.provider != "alibaba" }) else {
            return .failure(Errors.hwAuth("the access key does not exist"))
        }
        let signed = Set(auth.signedHeaders)
        for h in ["host", "x-sdk-date"] where !signed.contains(h) || req.header(h) == nil {
            return .failure(Errors.hwAuth("header \(h) must be present and signed"))
        }
        for h in ["content-type", "x-project-id", "x-security-token"] where req.header(h) != nil && !signed.contains(h) {
            return .failure(Errors.hwAuth("header \(h) must be signed"))
        }
        for h in signed where req.header(h) == nil {
            return .failure(Errors.hwAuth("signed header \(h) is missing from the request"))
        }
        guard let dateText = req.header("x-sdk-date"), let date = SigningClock.parseSdkDate(dateText) else {
            return .failure(Errors.hwAuth("X-Sdk-Date is not in the format YYYYMMDDTHHMMSSZ"))
        }
        guard abs(realNow - Double(date)) <= maxSkew else {
            return .failure(Errors.hwAuth("the request time is out of the allowed range"))
        }
        if let declared = req.header("x-sdk-content-sha256"), !req.body.isEmpty,
           declared != SigningHash.sha256Hex(req.body) {
            return .failure(Errors.hwAuth("verify aksk signature fail (payload hash)"))
        }
        if let hp = req.header("x-project-id"), let project, hp != project {
            return .failure(Errors.hwAuth("X-Project-Id does not match the project in the URL"))
        }
        if let configuredProject, let project, project != configuredProject {
            return .failure(Errors.hwAuth("the project \(project) does not belong to this access key"))
        }
        let signable = SignableRequest(method: req.method, target: req.target, headers: req.headers, body: req.body)
        guard HuaweiSigner.verify(signable, authorization: auth, secret: key.secret).valid else {
            return .failure(Errors.hwAuth("verify aksk signature fail"))
        }
        return .success(key.id)
    }
}
