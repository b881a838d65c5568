import ClocksourceAnalyzer
import HardLockupAnalyzer
import LockscanKit
import RqLockDeadlockAnalyzer
import RTThrottlingAnalyzer

/// Every analyzer built into lockscan, in report order. Adding one: a module
/// under Plugins/, one line in Package.swift, one line here.
public enum BuiltinAnalyzers {
    public static let all: [AnalyzerDescriptor] = [
        HardLockupAnalyzer.descriptor,
        RqLockDeadlockAnalyzer.descriptor,
        RTThrottlingAnalyzer.descriptor,
        ClocksourceAnalyzer.descriptor,
    ]
}
