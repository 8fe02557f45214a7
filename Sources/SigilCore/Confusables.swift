import Foundation

/// Look-alike names: Unicode's confusable detection (UTS #39), so that a new attribute set or
/// attribute cannot pose as an existing one. `Εngineering` (Greek capital Epsilon),
/// `Ｅngineering` (fullwidth E) and `Engineering` with a combining accent all look like
/// `Engineering`, and a role scoped to `/attributeSets/{name}` would look the same for each.
public enum Confusables {
    /// Each mapped code point's prototype, read from `table` (confusables.txt) on first use.
    static let prototypes: [UInt32: [Unicode.Scalar]] = {
        var result: [UInt32: [Unicode.Scalar]] = [:]
        for entry in table.split(whereSeparator: { $0 == "," || $0 == "\n" }) {
            let scalars = entry.split(separator: " ").compactMap { UInt32($0, radix: 16).flatMap(Unicode.Scalar.init) }
            guard let source = scalars.first, scalars.count > 1 else { continue }
            result[source.value] = Array(scalars.dropFirst())
        }
        return result
    }()

    /// The UTS #39 skeleton: NFD, default-ignorable code points removed, each code point
    /// replaced by its prototype, NFD again. Equal skeletons look alike (case-sensitively).
    public static func skeleton(_ text: String) -> String {
        var mapped = String.UnicodeScalarView()
        for scalar in text.decomposedStringWithCanonicalMapping.unicodeScalars
        where !scalar.properties.isDefaultIgnorableCodePoint {
            if let prototype = prototypes[scalar.value] {
                mapped.append(contentsOf: prototype)
            } else {
                mapped.append(scalar)
            }
        }
        return String(mapped).decomposedStringWithCanonicalMapping
    }

    /// The keys under which `name` is compared: two names look alike when they share one.
    ///
    /// The skeleton is case-sensitive, while names are unique case-insensitively, so the name is
    /// compared as written, upper-cased and case-folded: `ΕNGINEERING` (Greek Epsilon) looks like
    /// `ENGINEERING`, and `Mail` like `rnail` once folded to `mail`. Folding alone would not do,
    /// since `Ε` folds to `ε`, which does not look like `e`. Nonspacing marks are dropped after
    /// the skeleton, which keeps them: `é` must look like `e` here.
    public static func keys(_ name: String) -> Set<String> {
        let compatible = name.precomposedStringWithCompatibilityMapping
        return Set(
            [compatible, compatible.uppercased(), folded(compatible)].map { form in
                var scalars = String.UnicodeScalarView()
                scalars.append(contentsOf: skeleton(form).unicodeScalars.filter { $0.properties.generalCategory != .nonspacingMark })
                return String(scalars)
            })
    }

    /// Whether two names look alike (`keys` shared).
    public static func lookAlike(_ a: String, _ b: String) -> Bool {
        !keys(a).isDisjoint(with: keys(b))
    }

    /// Case folded as an equivalence (Swift has no case folding): `ς`, `σ` and `Σ` fold alike,
    /// `ß` to `ss`.
    static func folded(_ text: String) -> String { text.uppercased().lowercased() }
}
