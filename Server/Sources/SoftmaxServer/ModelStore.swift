//===--- ModelStore.swift -------------------------------------*- swift -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import SoftmaxData
public import SoftmaxRegression
import Synchronization

/// The model a server answers with, and the file it came from: read at
/// start, read again on ``reload()`` (SIGHUP). A request takes the model
/// as it is when the request starts (a copy-on-write value), so a reload
/// never changes a prediction half way, and a file that does not read
/// leaves the old model serving.
public final class ModelStore: Sendable {
  /// The model file.
  public let path: String
  private let state: Mutex<State>

  /// The model now served, with how many times it was replaced.
  public struct State: Sendable {
    /// The model.
    public var model: SoftmaxClassifier
    /// The model file's format version.
    public var formatVersion: Int
    /// Successful reloads since the start.
    public var reloads: Int
  }

  /// Reads the model at `path`.
  ///
  /// - Throws: ``ServerError`` naming the file and what is wrong with it.
  public init(path: String) throws(ServerError) {
    self.path = path
    let (model, version) = try Self.read(path)
    state = Mutex(State(model: model, formatVersion: version, reloads: 0))
  }

  /// The model now served.
  public var current: State { state.withLock { $0 } }

  /// Reads the file again and serves it from the next request on.
  ///
  /// - Returns: the new state.
  /// - Throws: ``ServerError`` when the file does not read as a model (the
  ///   old model keeps serving).
  @discardableResult
  public func reload() throws(ServerError) -> State {
    let (model, version) = try Self.read(path)
    return state.withLock { state in
      state.model = model
      state.formatVersion = version
      state.reloads += 1
      return state
    }
  }

  private static func read(_ path: String) throws(ServerError) -> (SoftmaxClassifier, Int) {
    do {
      let bytes = try AtomicFile.readText(path, maximumBytes: 1 << 32)
      let model = try ModelFile.decode(bytes)
      return (model, ModelFile.formatVersion(of: model))
    } catch let error as DataError {
      throw ServerError(error.description)
    } catch let error as TrainingError {
      throw ServerError("\(path): \(error.message)")
    } catch {
      throw ServerError("\(path): \(error)")
    }
  }
}

/// A problem of the server's own (its model file), with a message naming
/// it.
public struct ServerError: Error, Sendable, CustomStringConvertible {
  /// What is wrong.
  public var message: String
  /// An error with `message`.
  public init(_ message: String) { self.message = message }
  /// The message.
  public var description: String { message }
}
