/// The one place the command line's version lives: `sigil --version` prints it and every request
/// the client makes carries it as `User-Agent: sigil/<version>`.
public enum SigilVersion {
    public static let current = "0.1.0"
    public static let userAgent = "sigil/\(current)"
}
