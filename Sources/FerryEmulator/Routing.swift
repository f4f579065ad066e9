import FerryCore
import FerryJSON

/// Where a request goes: Alibaba by its `x-acs-action` header (+ `x-acs-version`), Huawei by method and path under
/// `/v2/<project>/`.
struct Route {
    var family: Family
    var action: String
    var pathParams: [String]
    var projectId: String?

    var op: String { "\(family.rawValue).\(action)" }
}

enum Router {
    static func route(_ req: EmulatorRequest) -> Result<Route, RouteFailure> {
        if let action = req.header("x-acs-action") {
            return routeAlibaba(req, action: action)
        }
        let seg = req.segments
        if seg.first == "v2" {
            return routeHuawei(req, seg)
        }
        return .failure(RouteFailure(family: nil, error: ProviderError(404, "NotFound", "No such API: \(req.method) \(req.path)")))
    }

    static func routeAlibaba(_ req: EmulatorRequest, action: String) -> Result<Route, RouteFailure> {
        let version = req.header("x-acs-version")
        let family: Family
        switch version {
        case "2022-08-01": family = .aliRocketMQ
        case "2019-05-31": family = .aliMSE
        case nil: family = req.path == "/" ? .aliMSE : .aliRocketMQ
        default:
            let fam: Family = req.path == "/" ? .aliMSE : .aliRocketMQ
            return .failure(RouteFailure(family: fam, error: ProviderError(
                400, "InvalidVersion", "Specified parameter Version is not valid. (\(version ?? ""))", gateway: true)))
        }
        if family == .aliMSE {
            guard OperationName.aliMSE.contains(action), req.path == "/" else {
                return .failure(RouteFailure(family: family, error: Errors.aliUnknownAction(action)))
            }
            return .success(Route(family: family, action: action, pathParams: [], projectId: nil))
        }
        let s = req.segments
        let m = req.method
        var params: [String]?
        switch action {
        case "ListMigrations":
            if m == "GET" && s == ["migrations"] { params = [] }
        case "ListMigrationOperations":
            if m == "GET" && s.count == 5 && s[0] == "migrations" && s[2] == "stages" && s[4] == "operations" {
                params = [s[1], s[3]]
            }
        case "ExecuteMigrationOperation":
            if m == "POST" && s.count == 7 && s[0] == "migrations" && s[2] == "stages" && s[4] == "operations"
                && s[6] == "execute" { params = [s[1], s[3], s[5]] }
        case "FinishMigrationStage":
            if m == "POST" && s.count == 5 && s[0] == "migrations" && s[2] == "stages" && s[4] == "finish" {
                params = [s[1], s[3]]
            }
        default: break
        }
        guard let params else { return .failure(RouteFailure(family: family, error: Errors.aliUnknownAction(action))) }
        return .success(Route(family: family, action: action, pathParams: params, projectId: nil))
    }

    static func routeHuawei(_ req: EmulatorRequest, _ seg: [String]) -> Result<Route, RouteFailure> {
        guard seg.count >= 3 else { return .failure(RouteFailure(family: .hwDCS, error: Errors.hwNoAPI())) }
        let project = seg[1]
        let s = Array(seg.dropFirst(2))
        let m = req.method
        func ok(_ f: Family, _ a: String, _ p: [String] = []) -> Result<Route, RouteFailure> {
            .success(Route(family: f, action: a, pathParams: p, projectId: project))
        }
        if s.first == "instances" {
            if s.count == 3 && s[2] == "metadata" {
                if m == "POST" { return ok(.hwRocketMQ, "CreateRocketMqMigrationTask", [s[1]]) }
                if m == "GET" { return ok(.hwRocketMQ, "ListRocketMqMigrationTask", [s[1]]) }
            }
            if s.count == 4 && s[2] == "metadata" && s[3] == "batch-delete" && m == "POST" {
                return ok(.hwRocketMQ, "BatchDeleteRocketMqMigrationTask", [s[1]])
            }
            return .failure(RouteFailure(family: .hwRocketMQ, error: Errors.hwNoAPI()))
        }
        switch (m, s.count, s.first ?? "") {
        case ("POST", 1, "migration-task"): return ok(.hwDCS, "CreateMigrationTask")
        case ("GET", 1, "migration-tasks"): return ok(.hwDCS, "ListMigrationTask")
        case ("POST", 2, "migration") where s[1] == "instance": return ok(.hwDCS, "CreateOnlineMigrationTask")
        case ("POST", 3, "migration") where s[2] == "task": return ok(.hwDCS, "SetOnlineMigrationTask", [s[1]])
        case ("POST", 2, "migration-task") where s[1] == "batch-stop": return ok(.hwDCS, "BatchStopMigrationTasks")
        case ("POST", 2, "migration-tasks") where s[1] == "batch-restart":
            return ok(.hwDCS, "BatchRestartOnlineMigrationTasks")
        case ("DELETE", 2, "migration-tasks") where s[1] == "delete": return ok(.hwDCS, "DeleteMigrationTask")
        case ("GET", 2, "migration-task"): return ok(.hwDCS, "ShowMigrationTask", [s[1]])
        case ("PUT", 2, "migration-task"): return ok(.hwDCS, "UpdateMigrationTask", [s[1]])
        case ("GET", 3, "migration-task") where s[2] == "stats": return ok(.hwDCS, "ShowMigrationTaskStats", [s[1]])
        case ("GET", 3, "migration-task") where s[2] == "logs": return ok(.hwDCS, "ListMigrationTaskLogs", [s[1]])
        case ("POST", 3, "migration-task") where s[2] == "stop": return ok(.hwDCS, "StopMigrationTask", [s[1]])
        case ("POST", 3, "migration-task") where s[2] == "sync-stop": return ok(.hwDCS, "StopMigrationTaskSync", [s[1]])
        default: return .failure(RouteFailure(family: .hwDCS, error: Errors.hwNoAPI()))
        }
    }
}

struct RouteFailure: Error {
    var family: Family?
    var error: ProviderError
}

extension EmulatorState {
    /// Runs one routed, authenticated operation.
    mutating func dispatch(_ action: String, _ ctx: OpContext) throws(ProviderError) -> OpResult {
        switch (ctx.family, action) {
        case (.aliRocketMQ, "ListMigrations"): return try aliListMigrations(ctx)
        case (.aliRocketMQ, "ListMigrationOperations"): return try aliListOperations(ctx)
        case (.aliRocketMQ, "ExecuteMigrationOperation"): return try aliExecuteOperation(ctx)
        case (.aliRocketMQ, "FinishMigrationStage"): return try aliFinishStage(ctx)
        case (.aliMSE, "AddMigrationTask"): return try mseAdd(ctx)
        case (.aliMSE, "ListMigrationTask"): return try mseList(ctx)
        case (.aliMSE, "UpdateMigrationTask"): return try mseUpdate(ctx)
        case (.aliMSE, "DeleteMigrationTask"): return try mseDelete(ctx)
        case (.hwRocketMQ, "CreateRocketMqMigrationTask"): return try dmsCreate(ctx)
        case (.hwRocketMQ, "ListRocketMqMigrationTask"): return try dmsList(ctx)
        case (.hwRocketMQ, "BatchDeleteRocketMqMigrationTask"): return try dmsBatchDelete(ctx)
        case (.hwDCS, "CreateMigrationTask"): return try dcsCreate(ctx)
        case (.hwDCS, "CreateOnlineMigrationTask"): return try dcsCreateOnline(ctx)
        case (.hwDCS, "SetOnlineMigrationTask"): return try dcsSetOnline(ctx)
        case (.hwDCS, "ListMigrationTask"): return try dcsList(ctx)
        case (.hwDCS, "ShowMigrationTask"): return try dcsShow(ctx)
        case (.hwDCS, "ShowMigrationTaskStats"): return try dcsStats(ctx)
        case (.hwDCS, "ListMigrationTaskLogs"): return try dcsLogs(ctx)
        case (.hwDCS, "UpdateMigrationTask"): return try dcsUpdate(ctx)
        case (.hwDCS, "StopMigrationTask"): return try dcsStop(ctx)
        case (.hwDCS, "StopMigrationTaskSync"): return try dcsStopSync(ctx)
        case (.hwDCS, "BatchStopMigrationTasks"): return try dcsBatchStop(ctx)
        case (.hwDCS, "BatchRestartOnlineMigrationTasks"): return try dcsBatchRestart(ctx)
        case (.hwDCS, "DeleteMigrationTask"): return try dcsDelete(ctx)
        default: throw ProviderError(404, "NotFound", "No such operation \(ctx.op)", gateway: true)
        }
    }
}
