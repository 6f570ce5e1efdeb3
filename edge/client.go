package edge

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"strings"
)

// maxRequestIDLen is the longest X-Request-Id accepted from a client.
const maxRequestIDLen = 128

// requestID returns the request's X-Request-Id when it is one sane header,
// else a new ID.
func requestID(header []string) string {
	if len(header) == 1 && saneRequestID(header[0]) {
		return header[0]
	}
	return newRequestID()
}

// saneRequestID reports whether id is fit to echo and to log: 1 to 128
// letters, digits and "-_.:/+=@" (UUIDs, base64, a proxy's own IDs), nothing
// that could forge a log line or a header.
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-_.:/+=@", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// newRequestID returns 32 random hex digits. IDs only need to be unique, so
// they come from math/rand's per-thread ChaCha8 source, which needs no
// system call.
func newRequestID() string {
	const hex = "0123456789abcdef"
	var b [32]byte
	for half := range 2 {
		n := rand.Uint64()
		for i := range 16 {
			b[half*16+i] = hex[n&0xf]
			n >>= 4
		}
	}
	return string(b[:])
}

// clientAddr returns the client's address: the peer's, or when the peer is
// a trusted proxy, the address X-Forwarded-For gives, walking from the right
// past trusted hops. The zero Addr when the peer's address is unreadable.
func clientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	addr := peer.Addr().Unmap()
	if len(trusted) == 0 || !isTrusted(addr, trusted) {
		return addr
	}
	// Each proxy appends its own peer; the rightmost hop that is not a
	// trusted proxy is the client. Hops left of it are the client's say.
	forwarded := r.Header["X-Forwarded-For"]
	for i := len(forwarded) - 1; i >= 0; i-- {
		list := forwarded[i]
		for list != "" {
			var hop string
			if j := strings.LastIndexByte(list, ','); j >= 0 {
				hop, list = list[j+1:], list[:j]
			} else {
				hop, list = list, ""
			}
			a, ok := parseHop(strings.TrimSpace(hop))
			if !ok {
				// Not written by a proxy of ours: the last trusted hop is
				// as far as we can see.
				return addr
			}
			addr = a
			if !isTrusted(a, trusted) {
				return a
			}
		}
	}
	return addr
}

// parseHop reads one X-Forwarded-For entry: an address, with or without a
// port.
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParseTrustedProxies reads a comma-separated list of CIDRs, such as
// "10.0.0.0/8, 192.168.1.7"; a bare address stands for itself alone.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var prefixes []netip.Prefix
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if p, err := netip.ParsePrefix(item); err == nil {
			prefixes = append(prefixes, netip.PrefixFrom(p.Addr().Unmap(), unmappedBits(p)).Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("%q is not a CIDR (such as 10.0.0.0/8) or an IP address", item)
		}
		a = a.Unmap()
		prefixes = append(prefixes, netip.PrefixFrom(a, a.BitLen()))
	}
	return prefixes, nil
}

// unmappedBits is p's length once an IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104)
// is turned into its IPv4 form (10.0.0.0/8).
func unmappedBits(p netip.Prefix) int {
	if p.Addr().Is4In6() {
		return max(p.Bits()-96, 0)
	}
	return p.Bits()
}
