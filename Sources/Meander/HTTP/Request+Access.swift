import Foundation
import Vapor

// The request's side of access: the caller found by `AccessMiddleware`, the operation's declared permission, and
// whether a handler ran a check.

extension Request {
    private struct PrincipalKey: StorageKey {
        typealias Value = Principal
    }

    private struct PermissionKey: StorageKey {
        typealias Value = Permission
    }

    /// The signed-in caller, set by `AccessMiddleware` on operations that need one.
    var principal: Principal? {
        get { storage[PrincipalKey.self] }
        set { storage[PrincipalKey.self] = newValue }
    }

    /// The caller, or 401 if the request is anonymous.
    func requirePrincipal() throws -> Principal {
        guard let principal else { throw AppError(.unauthorized, "Sign in first.") }
        return principal
    }

    /// The permission the matched operation declares in the contract.
    var permission: Permission? {
        get { storage[PermissionKey.self] }
        set { storage[PermissionKey.self] = newValue }
    }
}

extension Request {
    /// The access checks for this request's declared permission, by its caller (signed in or not), on its database.
    var access: Access { Access(caller: Caller(anyoneOf: self), declared: permission, db: db) }

    private struct AuthorizedKey: StorageKey {
        typealias Value = Bool
    }

    func markAuthorized() {
        storage[AuthorizedKey.self] = true
    }

    /// A stored answer replayed for an `Idempotency-Key` was authorised when it was first made, for the same user.
    func markAuthorizedByReplay() {
        storage[AuthorizedKey.self] = true
    }

    /// Whether a handler ran one of `Access`'s checks; `AccessMiddleware` refuses responses that skipped it.
    var wasAuthorized: Bool { storage[AuthorizedKey.self] ?? false }
}
