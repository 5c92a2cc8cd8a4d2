/**
 * Typed views of header values. Values are kept as written on the wire (escaped, original case)
 * unless a field says otherwise; helpers in uri.ts unescape on demand.
 */

/** Ordered `;name=value` parameters. Names compare case-insensitively (RFC 3261 §7.3.1). */
export interface Params {
  /** Value of the first parameter with this name: '' for a flag (`;lr`), undefined when absent. */
  get(name: string): string | undefined;
  has(name: string): boolean;
  /** [name as written, value or undefined for a flag] in wire order. */
  entries(): ReadonlyArray<readonly [string, string | undefined]>;
  readonly size: number;
  /** `;a=b;lr` as it would be written (original spelling). '' when empty. */
  toString(): string;
}

export interface SipUri {
  readonly scheme: 'sip' | 'sips';
  /** User part as written (may hold %HH escapes); undefined when there is no `@`. */
  readonly user: string | undefined;
  readonly password: string | undefined;
  /** Host as written; an IPv6 reference keeps its brackets: `[2001:db8::10]`. */
  readonly host: string;
  readonly port: number | undefined;
  readonly params: Params;
  /** Raw text after `?` (escaped `hname=hvalue&...`), undefined when absent. */
  readonly headers: string | undefined;
  /** The URI exactly as it was parsed. */
  readonly raw: string;
}

/** RFC 3966 tel: URI. */
export interface TelUri {
  readonly scheme: 'tel';
  /** global-number (`+1-212-555-0101`) or local-number, as written. */
  readonly number: string;
  readonly params: Params;
  readonly raw: string;
}

/** Any other scheme (`http:`, `isbn:`, `soap.beep:` …): kept opaque. */
export interface OpaqueUri {
  readonly scheme: string;
  /** Everything after `scheme:`. */
  readonly opaque: string;
  readonly raw: string;
}

export type Uri = SipUri | TelUri | OpaqueUri;

/** name-addr or addr-spec with header parameters (From, To, Contact, Route, Refer-To …). */
export interface NameAddr {
  /** Display name unquoted and with quoted-pairs resolved; undefined when absent. */
  readonly displayName: string | undefined;
  /** The URI text between `<` and `>` (or the addr-spec), as written. */
  readonly uriText: string;
  /** Parsed URI (never a ParseError here: a NameAddr exists only if its URI parsed). */
  readonly uri: Uri;
  /** Header parameters after the URI (`;tag=…`, `;expires=…`, `;q=…`). */
  readonly params: Params;
  /** True when the URI was enclosed in `<>`. */
  readonly bracketed: boolean;
}

export interface Via {
  /** `SIP/2.0/UDP` → protocol 'SIP', version '2.0', transport 'UDP' (upper-cased). */
  readonly protocol: string;
  readonly version: string;
  readonly transport: string;
  /** sent-by host as written (IPv6 with brackets). */
  readonly host: string;
  readonly port: number | undefined;
  readonly params: Params;
  /** `branch` parameter value, undefined when absent. */
  readonly branch: string | undefined;
  readonly received: string | undefined;
  /** undefined: absent; null: present without a value (`;rport`); number: `;rport=5060`. */
  readonly rport: number | null | undefined;
  readonly ttl: number | undefined;
  readonly maddr: string | undefined;
  /** The via-parm text as written (one comma element). */
  readonly raw: string;
}

export interface Contact extends NameAddr {
  /** `expires` contact parameter as a number, undefined when absent. */
  readonly expires: number | undefined;
  /** `q` parameter (0.000–1.000), undefined when absent. */
  readonly q: number | undefined;
}

/** `Contact: *` or a list of contacts. */
export type ContactList =
  | { readonly star: true; readonly contacts: readonly [] }
  | { readonly star: false; readonly contacts: readonly Contact[] };

export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

/** Authorization / Proxy-Authorization / WWW-Authenticate / Proxy-Authenticate. */
export interface Credentials {
  /** `Digest`, or any other scheme as written. */
  readonly scheme: string;
  /** Parameters with quotes removed and quoted-pairs resolved; names lower-cased. */
  readonly params: ReadonlyMap<string, string>;
  /** For non-Digest schemes that carry a token68 or free text: the raw text after the scheme. */
  readonly raw: string;
}

export interface ContentType {
  /** Lower-cased `type/subtype`, e.g. `application/sdp`. */
  readonly mediaType: string;
  readonly type: string;
  readonly subtype: string;
  readonly params: Params;
}

/** Event / Allow-Events style value: a token plus parameters. */
export interface EventValue {
  readonly event: string;
  readonly params: Params;
}
