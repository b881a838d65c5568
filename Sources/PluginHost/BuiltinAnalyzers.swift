import Clocksource
import CPUBacktraces
import HardLockup
import HostVirt
import HungTask
import HyperVEnlightenmentCheck
import KernelCrash
import LockscanKit
import RCUStall
import RqLockDeadlock
import RTThrottling
import SoftLockup
import SpinlockLockup
import WindowsClockWatchdog
import WorkqueueLockup

/// Every analyzer built into lockscan, in report order.
///
/// Adding one: a folder under Plugins/ holding its module (named after the
/// folder), the folder's name in Package.swift's `analyzers`, and its
/// descriptor here. Nothing else: its report headers and event roles come
/// with the descriptor, and the suite runs its examples because it is here.
/// AnalyzerTests' registry test names a folder that is missing from this
/// list, so an analyzer cannot sit in Plugins/ unregistered and untested.
public enum BuiltinAnalyzers {
    public static let all: [AnalyzerDescriptor] = [
        HardLockupAnalyzer.descriptor,
        SoftLockupAnalyzer.descriptor,
        RCUStallAnalyzer.descriptor,
        HungTaskAnalyzer.descriptor,
        RqLockDeadlockAnalyzer.descriptor,
        WorkqueueLockupAnalyzer.descriptor,
        SpinlockLockupAnalyzer.descriptor,
        KernelCrashAnalyzer.descriptor,
        RTThrottlingAnalyzer.descriptor,
        ClocksourceAnalyzer.descriptor,
        CPUBacktracesAnalyzer.descriptor,
        WindowsClockWatchdogAnalyzer.descriptor,
        HostVirtAnalyzer.descriptor,
        HyperVEnlightenmentCheck.descriptor,
    ]

    /// Folders under Plugins/ that are deliberately not built in: they are
    /// built as shared objects and loaded with `--plugin` (Package.swift
    /// declares their dynamic products).
    public static let runTimePluginFolders: Set<String> = ["ExampleAnalyzer"]
}
