package calimport

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// Addresses that lead back inside (or through a translator into) a
// network, which the dialler must never reach, and public ones it must.
func TestPrivateIP(t *testing.T) {
	for _, c := range []struct {
		ip      string
		private bool
	}{
		{"127.0.0.1", true},
		{"10.1.2.3", true},
		{"169.254.169.254", true},
		{"100.64.0.1", true},
		{"0.1.2.3", true},
		{"::1", true},
		{"fd00::1", true},
		{"fe80::1", true},
		{"::ffff:127.0.0.1", true},
		// IPv4-compatible (deprecated), e.g. ::127.0.0.1.
		{"::7f00:1", true},
		// NAT64, well-known and local-use prefixes: a translator turns
		// them into any IPv4 address, 169.254.169.254 included.
		{"64:ff9b::a9fe:a9fe", true},
		{"64:ff9b::7f00:1", true},
		{"64:ff9b::808:808", true},
		{"64:ff9b:1::a00:1", true},
		// 6to4 (2002:AABB:CCDD::) and Teredo (2001:0::) carry IPv4
		// addresses too.
		{"2002:7f00:1::1", true},
		{"2002:a9fe:a9fe::1", true},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", true},
		{"240.0.0.1", true},
		{"198.18.0.1", true},

		{"93.184.216.34", false},
		{"8.8.8.8", false},
		{"2a00:1450:400f:80d::200e", false},
		{"2606:4700::6810:84e5", false},
		{"2001:4860:4860::8888", false},
	} {
		if got := privateIP(net.ParseIP(c.ip)); got != c.private {
			t.Errorf("privateIP(%s) = %v, want %v", c.ip, got, c.private)
		}
	}
}

// fakeDNS answers every A and AAAA query with the given addresses.
func fakeDNS(t *testing.T, answers ...string) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
			b.EnableCompression()
			b.StartQuestions()
			b.Question(q)
			b.StartAnswers()
			for _, a := range answers {
				ip := net.ParseIP(a)
				rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
				switch {
				case q.Type == dnsmessage.TypeA && ip.To4() != nil:
					var r dnsmessage.AResource
					copy(r.A[:], ip.To4())
					b.AResource(rh, r)
				case q.Type == dnsmessage.TypeAAAA && ip.To4() == nil:
					var r dnsmessage.AAAAResource
					copy(r.AAAA[:], ip.To16())
					b.AAAAResource(rh, r)
				}
			}
			msg, err := b.Finish()
			if err == nil {
				pc.WriteTo(msg, addr)
			}
		}
	}()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
}

// A public name whose DNS answer is a NAT64, 6to4 or Teredo address is
// refused when dialling, before any connection is made: each could carry
// the traffic to an address inside the network.
func TestDialRefusesTranslatedAddresses(t *testing.T) {
	for _, addr := range []string{"64:ff9b::a9fe:a9fe", "64:ff9b:1::a00:1", "2002:a9fe:a9fe::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "::ffff:10.0.0.1", "127.0.0.1"} {
		t.Run(addr, func(t *testing.T) {
			client := newClient(Options{Timeout: 2 * time.Second, Resolver: fakeDNS(t, addr)})
			req, _ := http.NewRequest(http.MethodGet, "http://kalender.example.dk/det-sker.ics", nil)
			_, err := client.Do(req)
			if !errors.Is(err, errPrivateAddress) {
				t.Errorf("GET through %s: %v, want it refused as not public", addr, err)
			}
		})
	}
}
