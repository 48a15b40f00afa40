import GencIR

/// The text of a plan (`genc dump --stage plan`): its memory report, then
/// one line per kernel with the slots it reads and writes and the IR ops it
/// holds with their YAML lines, and for a fused loop its body, instruction
/// by instruction.
public enum PlanText {
    public static func print(_ p: Plan) -> String {
        let r = p.report
        var out = "plan \"\(p.name)\" {\n"
        out += "  # \(r.kernels) kernels from \(r.ops) ops (\(r.fusedGroups) fused groups)\n"
        out += "  # arena \(r.arenaBytes) B, lower bound \(r.lowerBoundBytes) B, naive \(r.naiveBytes) B, persistent \(r.persistentBytes) B, fragmentation \(percent(r.fragmentation))\n"
        if !r.peak.isEmpty {
            out += "  # live at the peak (step \(r.peakStep)): " + r.peak.map { v in
                "%\(v.slot) \(v.op) \(v.bytes) B" + (v.location.map { " (\($0.line):\($0.column))" } ?? "")
            }.joined(separator: ", ") + "\n"
        }
        for i in p.inputs { out += "  input \"\(i.name)\" %\(i.slot) : \(p.slots[i.slot].type) \(storage(p, i.slot))\n" }
        for (k, s) in p.steps.enumerated() {
            let outs = s.outputs.map { "%\($0)" }.joined(separator: ", ")
            let ins = s.inputs.map { "%\($0)" }.joined(separator: ", ")
            let types = s.outputs.map { "\(p.slots[$0].type) \(storage(p, $0))" }.joined(separator: ", ")
            out += "  \(k): \(outs) = \(s.name)(\(ins)) : \(types)\n"
            if case let .fused(f) = s.kernel {
                for (j, read) in f.reads.enumerated() where !read.isIdentity(over: f.shape) {
                    out += "       in\(j) = %\(s.inputs[f.headInputs + j]) at offset \(read.offset) strides \(read.strides)\n"
                }
                for (j, ins) in f.body.enumerated() {
                    out += "       r\(j) = \(function(ins.function))(\(ins.operands.map(operand).joined(separator: ", ")))  # %\(ins.node)\n"
                }
                for (j, reg) in f.results.enumerated() { out += "       %\(s.outputs[f.firstResultOutput + j]) <- r\(reg)\n" }
                for (j, r) in f.reductions.enumerated() {
                    let axes = f.shape.indices.filter { r.strides[$0] == 0 }.map(String.init).joined(separator: ", ")
                    out += "       %\(s.outputs[f.firstReductionOutput + j]) <- reduce_\(r.function.rawValue)(\(operand(r.operand))) over axes [\(axes)]\n"
                }
            }
            let src = s.sources.map { o in "\(o.op) %\(o.node)" + (o.location.map { " \($0.line):\($0.column)" } ?? "") }
            out += "       # " + src.joined(separator: ", ") + "\n"
        }
        for o in p.outputs { out += "  output \"\(o.name)\" %\(o.slot)\n" }
        for u in p.updates { out += "  update \"\(p.persistent[u.buffer].name)\" <- %\(u.slot)\(u.inPlace ? " (in place)" : "")\n" }
        return out + "}\n"
    }

    static func percent(_ x: Double) -> String { "\((x * 1000).rounded() / 10)%" }

    static func storage(_ p: Plan, _ s: Int) -> String {
        switch p.slots[s].storage {
        case let .arena(o): return "@\(o)"
        case let .persistent(k): return "@\(p.persistent[k].name)"
        case let .view(of): return "view of %\(of)"
        case .fused: return "register"
        }
    }

    static func function(_ f: FusedInstruction.Function) -> String {
        switch f {
        case let .unary(u): return Op.unary(u).name
        case let .binary(b): return Op.binary(b).name
        case let .random(d, stream): return "\(Op.random(d, stream: stream).name)[stream \(stream)]"
        case .copy: return "copy"
        case let .oneHot(depth): return "one_hot[\(depth)]"
        }
    }

    static func operand(_ o: FusedInstruction.Operand) -> String {
        switch o {
        case let .input(k): return "in\(k)"
        case .head: return "head"
        case let .register(r): return "r\(r)"
        case let .scalar(v): return "\(v)"
        }
    }
}
