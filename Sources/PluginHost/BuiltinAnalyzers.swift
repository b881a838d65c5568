import ClocksourceAnalyzer
import CPUBacktracesAnalyzer
import HardLockupAnalyzer
import HostVirtAnalyzer
import HungTaskAnalyzer
import HyperVEnlightenmentCheck
import LockscanKit
import RCUStallAnalyzer
import RqLockDeadlockAnalyzer
import RTThrottlingAnalyzer
import SoftLockupAnalyzer
import SpinlockLockupAnalyzer
import WindowsClockWatchdogAnalyzer
import WorkqueueLockupAnalyzer

/// Every analyzer built into lockscan, in report order. Adding one: a module
/// under Plugins/, one line in Package.swift, one line here.
public enum BuiltinAnalyzers {
    public static let all: [AnalyzerDescriptor] = [
        HardLockupAnalyzer.descriptor,
        SoftLockupAnalyzer.descriptor,
        RCUStallAnalyzer.descriptor,
        HungTaskAnalyzer.descriptor,
        RqLockDeadlockAnalyzer.descriptor,
        WorkqueueLockupAnalyzer.descriptor,
        SpinlockLockupAnalyzer.descriptor,
        RTThrottlingAnalyzer.descriptor,
        ClocksourceAnalyzer.descriptor,
        CPUBacktracesAnalyzer.descriptor,
        WindowsClockWatchdogAnalyzer.descriptor,
        HostVirtAnalyzer.descriptor,
        HyperVEnlightenmentCheck.descriptor,
    ]
}
