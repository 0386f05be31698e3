//===--- GlobalSettingsSuite.swift ----------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Testing

/// The suites that change process-wide settings (CPU level, thread count)
/// run one after the other, never beside each other: results legitimately
/// differ between CPU levels, so a level switched by one suite would show
/// up as a difference in another.
@Suite("Process-wide settings", .serialized)
enum GlobalSettingsTests {}
