/// Path text as the shell and `basename` read it: components split at `/`.
/// (NSString's path methods are in the full Foundation, not loaded.)
public enum PathName {
    /// The last component: `a/b/` → `b`, `/` → `/`, `` → ``.
    public static func last(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1, p.last == "/" { p = p.dropLast() }
        guard p != "/" else { return "/" }
        if let slash = p.lastIndex(of: "/") { return String(p[p.index(after: slash)...]) }
        return String(p)
    }

    /// `component` under the folder `dir`, with one `/` between them.
    public static func join(_ dir: String, _ component: String) -> String {
        guard !dir.isEmpty else { return component }
        var d = Substring(dir)
        while d.count > 1, d.last == "/" { d = d.dropLast() }
        let c = component.drop(while: { $0 == "/" })
        return d == "/" ? "/" + c : d + "/" + c
    }
}
