import FerryCore
import FerryJSON

// Alibaba Cloud MSE 2019-05-31: registry migration tasks (RPC style, every parameter in the query).

extension MseTask {
    static let fieldNames = ["ClusterType", "OriginInstanceAddress", "OriginInstanceName", "OriginInstanceNamespace",
                             "ProjectDesc", "SyncType", "TargetClusterName", "TargetClusterUrl", "TargetInstanceId"]

    func data(idAsString: Bool, times: Bool = true) -> JSON {
        var o: JSONObject = ["Id": idAsString ? .string(String(id)) : .int(id)]
        for f in Self.fieldNames { o[f] = .string(fields[f] ?? "") }
        if times {
            o["GmtCreate"] = .string(CivilTime.mse(gmtCreate))
            o["GmtModified"] = .string(CivilTime.mse(gmtModified))
        }
        o["UserId"] = .string(userId)
        return .object(o)
    }
}

extension EmulatorState {
    static let mseOK = "The request was successfully processed."

    func mseCommon(_ ctx: OpContext) throws(ProviderError) {
        if let l = ctx.q("AcceptLanguage"), !l.isEmpty, l != "zh", l != "en" {
            throw ProviderError(400, "InvalidParameter", "Parameter error:AcceptLanguage must be zh or en")
        }
        if let c = ctx.q("ClusterType"), !c.isEmpty, !["Nacos-Ans", "ZooKeeper", "Eureka"].contains(c) {
            throw ProviderError(400, "InvalidParameter", "Parameter error:ClusterType must be one of Nacos-Ans, ZooKeeper, Eureka")
        }
        if let r = ctx.q("RequestPars"), !r.isEmpty {
            do { _ = try JSONParser.parse(r) } catch {
                throw ProviderError(400, "IllegalRequest", "Invalid request:RequestPars is not valid JSON")
            }
        }
    }

    func mseTaskIndex(_ ctx: OpContext) throws(ProviderError) -> Int {
        guard let raw = ctx.q("Id"), !raw.isEmpty else { throw ctx.missing("Id") }
        guard let id = Int(raw) else { throw ProviderError(400, "InvalidParameter", "Parameter error:Id must be an integer") }
        guard let i = mseTasks.firstIndex(where: { $0.id == id }) else {
            throw ProviderError(404, "NotFound", "Not found:migration task \(id)")
        }
        return i
    }

    mutating func mseAdd(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        try mseCommon(ctx)
        var fields: [String: String] = [:]
        for f in MseTask.fieldNames { if let v = ctx.q(f) { fields[f] = v } }
        let t = MseTask(id: nextMseId, userId: userId, fields: fields, gmtCreate: ctx.now, gmtModified: ctx.now)
        nextMseId += 1
        mseTasks.append(t)
        // AddMigrationTask's Data has no Gmt* fields in the model.
        let data = t.data(idAsString: true, times: false)
        let body: JSON = ["RequestId": .string(ctx.requestId), "Success": true, "ErrorCode": "mse-100-000",
                          "Message": .string(Self.mseOK), "Data": data]
        return OpResult(body: body, effect: ["created": t.data(idAsString: false)], params: ctx.queryJSON)
    }

    mutating func mseList(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        try mseCommon(ctx)
        func num(_ name: String, _ def: Int, _ max: Int) throws(ProviderError) -> Int {
            guard let raw = ctx.q(name), !raw.isEmpty else { return def }
            guard let v = Int(raw), v >= 1, v <= max else {
                throw ProviderError(400, "InvalidParameter", "Parameter error:\(name) must be an integer in 1...\(max)")
            }
            return v
        }
        let page = try num("PageNum", 1, 100_000)
        let size = try num("PageSize", 10, 100)
        var items = mseTasks
        if let n = ctx.q("OriginInstanceName"), !n.isEmpty {
            items = items.filter { ($0.fields["OriginInstanceName"] ?? "").contains(n) }
        }
        let start = (page - 1) * size
        let pageItems = start < items.count ? Array(items[start..<min(items.count, start + size)]) : []
        let body: JSON = [
            "RequestId": .string(ctx.requestId), "Success": true, "ErrorCode": "mse-100-000", "HttpCode": "200",
            "Message": .string(Self.mseOK), "PageNumber": .int(page), "PageSize": .int(size),
            "TotalCount": .int(items.count), "Data": .array(pageItems.map { $0.data(idAsString: false) }),
        ]
        return OpResult(body: body, params: ctx.queryJSON)
    }

    mutating func mseUpdate(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        try mseCommon(ctx)
        let i = try mseTaskIndex(ctx)
        let before = mseTasks[i].data(idAsString: false)
        for f in MseTask.fieldNames { if let v = ctx.q(f) { mseTasks[i].fields[f] = v } }
        mseTasks[i].gmtModified = ctx.now
        let t = mseTasks[i]
        let body: JSON = ["RequestId": .string(ctx.requestId), "Success": true, "ErrorCode": "mse-100-000",
                          "HttpCode": "200", "Message": .string(Self.mseOK), "Data": t.data(idAsString: true)]
        return OpResult(body: body, effect: ["before": before, "after": t.data(idAsString: false)], params: ctx.queryJSON)
    }

    mutating func mseDelete(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        try mseCommon(ctx)
        let i = try mseTaskIndex(ctx)
        let t = mseTasks.remove(at: i)
        let body: JSON = ["RequestId": .string(ctx.requestId), "Success": true, "ErrorCode": "mse-100-000",
                          "HttpCode": "200", "Message": .string(Self.mseOK), "Data": true]
        return OpResult(body: body, effect: ["deleted": t.data(idAsString: false)], params: ctx.queryJSON)
    }
}
