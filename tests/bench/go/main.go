// wxgate-bench-go-server: a baseline for benchmarks, not a product. It
// answers wxgate.v1.SignatureService/SignJsapiConfig the way wxgate answers a
// cache hit (validate the page URL, draw a 16-character nonce from a CSPRNG,
// SHA-1 the jsapi_ticket string), on a fixed in-memory ticket, with grpc-go
// from Debian's packages. SignAgentConfig is Unimplemented.
//
// Flags: --listen=HOST:PORT (default 127.0.0.1:0). Prints {"port":N} on
// stdout once serving. GOMAXPROCS comes from the environment.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	wxgatev1 "wxgate/gen/wxgate/v1"
)

// The one configured app, as a wecom_app whose corp jsapi_ticket is cached.
type app struct {
	appID  string
	ticket string
}

var apps = map[string]*app{
	"cs": {appID: "wwbenchcorp0000000", ticket: "bench-jsapi-ticket-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"},
}

const maxPageURLLength = 4096

func badURL(why string) error {
	return status.Error(codes.InvalidArgument, "url "+why)
}

func isHostChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func validHostName(host string) bool {
	if len(host) == 0 || len(host) > 253 {
		return false
	}
	labelStart := 0
	lastLabel := ""
	for i := 0; i <= len(host); i++ {
		if i == len(host) || host[i] == '.' {
			label := host[labelStart:i]
			if len(label) == 0 || len(label) > 63 {
				return false
			}
			lastLabel = label
			labelStart = i + 1
			continue
		}
		if !isHostChar(host[i]) {
			return false
		}
	}
	if lastLabel[0] >= '0' && lastLabel[0] <= '9' {
		ip := net.ParseIP(host)
		return ip != nil && ip.To4() != nil
	}
	return true
}

func validPort(port string) bool {
	if len(port) == 0 || len(port) > 5 {
		return false
	}
	v := 0
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
		v = v*10 + int(port[i]-'0')
	}
	return v <= 65535
}

func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// normalizePageURL applies wxgate's rules (server/signature/page_url.cc) and
// returns the bytes to sign: no fragment, scheme and host lowercased.
func normalizePageURL(url string) (string, error) {
	if len(url) == 0 {
		return "", badURL("is empty")
	}
	if len(url) > maxPageURLLength {
		return "", badURL("is over 4 KiB")
	}
	hash := -1
	for i := 0; i < len(url); i++ {
		c := url[i]
		if c <= 0x20 || c >= 0x7f {
			return "", badURL("contains whitespace, a control character or a non-ASCII byte")
		}
		if c == '#' && hash < 0 {
			hash = i
		}
	}
	toSign := url
	if hash >= 0 {
		toSign = url[:hash]
	}
	schemeLen := 0
	if hasPrefixFold(toSign, "http://") {
		schemeLen = 7
	} else if hasPrefixFold(toSign, "https://") {
		schemeLen = 8
	} else {
		return "", badURL("is not an absolute http:// or https:// URL")
	}
	rest := toSign[schemeLen:]
	authority := rest
	for i := 0; i < len(rest); i++ {
		if rest[i] == '/' || rest[i] == '?' {
			authority = rest[:i]
			break
		}
	}
	if len(authority) == 0 {
		return "", badURL("has no host")
	}
	host, afterHost := authority, ""
	for i := 0; i < len(authority); i++ {
		if authority[i] == '@' {
			return "", badURL("has userinfo, which is not signed")
		}
	}
	if authority[0] == '[' {
		closeAt := -1
		for i := 0; i < len(authority); i++ {
			if authority[i] == ']' {
				closeAt = i
				break
			}
		}
		if closeAt < 0 {
			return "", badURL("has an invalid IPv6 address")
		}
		if inner := authority[1:closeAt]; !strings.Contains(inner, ":") || net.ParseIP(inner) == nil {
			return "", badURL("has an invalid IPv6 address")
		}
		host, afterHost = authority[:closeAt+1], authority[closeAt+1:]
	} else {
		for i := 0; i < len(authority); i++ {
			if authority[i] == ':' {
				host, afterHost = authority[:i], authority[i:]
				break
			}
		}
		if !validHostName(host) {
			return "", badURL("has an invalid host")
		}
	}
	if len(afterHost) > 0 && (afterHost[0] != ':' || !validPort(afterHost[1:])) {
		return "", badURL("has an invalid port")
	}
	scheme, lowHost := lower(toSign[:schemeLen]), lower(host)
	if scheme == toSign[:schemeLen] && lowHost == host {
		return toSign, nil
	}
	return scheme + lowHost + rest[len(host):], nil
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomAlphanumeric16 draws a uniform [A-Za-z0-9]{16} from crypto/rand,
// rejecting bytes >= 248 as wxgate does.
func randomAlphanumeric16() (string, error) {
	var out [16]byte
	var batch [32]byte
	n := 0
	for n < len(out) {
		if _, err := rand.Read(batch[:]); err != nil {
			return "", err
		}
		for _, b := range batch {
			if n == len(out) {
				break
			}
			if b < 248 {
				out[n] = alphabet[int(b)%len(alphabet)]
				n++
			}
		}
	}
	return string(out[:]), nil
}

type signatureServer struct {
	wxgatev1.UnimplementedSignatureServiceServer
}

func (signatureServer) SignJsapiConfig(_ context.Context, req *wxgatev1.SignJsapiConfigRequest) (*wxgatev1.JsapiSignature, error) {
	if req.GetApp() == "" {
		return nil, status.Error(codes.InvalidArgument, "app is required")
	}
	a, ok := apps[req.GetApp()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "app %q is not configured", req.GetApp())
	}
	url, err := normalizePageURL(req.GetUrl())
	if err != nil {
		return nil, err
	}
	nonce, err := randomAlphanumeric16()
	if err != nil {
		return nil, status.Error(codes.Internal, "the random number generator failed")
	}
	timestamp := time.Now().Unix()
	buf := make([]byte, 0, 13+len(a.ticket)+10+len(nonce)+11+20+5+len(url))
	buf = append(buf, "jsapi_ticket="...)
	buf = append(buf, a.ticket...)
	buf = append(buf, "&noncestr="...)
	buf = append(buf, nonce...)
	buf = append(buf, "&timestamp="...)
	buf = strconv.AppendInt(buf, timestamp, 10)
	buf = append(buf, "&url="...)
	buf = append(buf, url...)
	sum := sha1.Sum(buf)
	return &wxgatev1.JsapiSignature{
		AppId:     a.appID,
		AgentId:   0,
		Timestamp: timestamp,
		NonceStr:  nonce,
		Signature: hex.EncodeToString(sum[:]),
		Url:       url,
	}, nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "HOST:PORT to listen on (port 0: any free port)")
	flag.Parse()

	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "listen %s: %v\n", *listen, err)
		os.Exit(1)
	}
	s := grpc.NewServer()
	wxgatev1.RegisterSignatureServiceServer(s, signatureServer{})
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("wxgate.v1.SignatureService", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s, hs)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		hs.Shutdown()
		s.GracefulStop()
	}()

	fmt.Printf("{\"port\":%d}\n", lis.Addr().(*net.TCPAddr).Port)
	os.Stdout.Sync()
	if err := s.Serve(lis); err != nil {
		fmt.Fprintf(os.Stderr, "serve: %v\n", err)
		os.Exit(1)
	}
}
