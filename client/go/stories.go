// wxgate's two stories in Go with grpc-go, and reading an error's ErrorInfo.
// main.go is the suite's stdin/stdout glue around them.
package main

import (
	"context"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	wxgatev1 "wxgate/gen/wxgate/v1"
)

// callTimeout bounds every call: wxgate answers DEADLINE_EXCEEDED rather than
// waiting on WeChat past the caller's deadline.
const callTimeout = 10 * time.Second

// wxgate holds one client per service over a single connection.
type wxgate struct {
	identity  wxgatev1.IdentityServiceClient
	signature wxgatev1.SignatureServiceClient
}

// dial connects to target without TLS (grpc-go 1.34 and later spell it
// grpc.WithTransportCredentials(insecure.NewCredentials())). Over the network
// use TLS: grpc.WithTransportCredentials(credentials.NewClientTLSFromFile(...)).
func dial(target string) (*grpc.ClientConn, wxgate, error) {
	conn, err := grpc.Dial(target, grpc.WithInsecure())
	if err != nil {
		return nil, wxgate{}, err
	}
	return conn, wxgate{
		identity:  wxgatev1.NewIdentityServiceClient(conn),
		signature: wxgatev1.NewSignatureServiceClient(conn),
	}, nil
}

// withRequestID names the call: wxgate puts the id in every error's ErrorInfo
// (metadata request_id) and on its log lines, so logs can be joined on it.
func withRequestID(ctx context.Context, id string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "x-request-id", id)
}

// Story 1: a mini-program user logs in. The mini-program called wx.login()
// and sent the code to your backend, then getUserProfile's encryptedData and
// iv. wxgate exchanges the code and keeps the session_key: your backend only
// ever sees the openid and unionid.
func miniProgramLogin(ctx context.Context, wx wxgate, app, jsCode, encryptedData, iv string) (
	*wxgatev1.Code2SessionResponse, *wxgatev1.DecryptUserDataResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	session, err := wx.identity.Code2Session(ctx, &wxgatev1.Code2SessionRequest{App: app, JsCode: jsCode})
	if err != nil {
		return nil, nil, err
	}
	// decrypted.Json is the user data as WeChat sealed it; Openid and Unionid
	// are read from it and checked against the session's.
	decrypted, err := wx.identity.DecryptUserData(ctx, &wxgatev1.DecryptUserDataRequest{
		App:           app,
		User:          &wxgatev1.DecryptUserDataRequest_Openid{Openid: session.Openid},
		EncryptedData: encryptedData,
		Iv:            iv,
	})
	if err != nil {
		return nil, nil, err
	}
	return session, decrypted, nil
}

// Story 2: the WeCom customer-service sidebar. The page needs wx.config and
// wx.agentConfig signed for its URL, then asks who the customer is. The
// unionid is the same person's as in story 1.
func weComSidebar(ctx context.Context, wx wxgate, app, url, externalUserID string) (
	jsapi, agent *wxgatev1.JsapiSignature, contact *wxgatev1.GetExternalContactResponse, err error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if jsapi, err = wx.signature.SignJsapiConfig(ctx, // -> wx.config({...})
		&wxgatev1.SignJsapiConfigRequest{App: app, Url: url}); err != nil {
		return
	}
	if agent, err = wx.signature.SignAgentConfig(ctx, // -> wx.agentConfig({...})
		&wxgatev1.SignAgentConfigRequest{App: app, Url: url}); err != nil {
		return
	}
	contact, err = wx.identity.GetExternalContact(ctx,
		&wxgatev1.GetExternalContactRequest{App: app, ExternalUserid: externalUserID})
	return
}

// errorInfo is the google.rpc.ErrorInfo among err's status details (decoded
// from grpc-status-details-bin by grpc-go), or nil for errors that have none
// (gRPC's own, such as Unavailable when nothing listens). Branch on Reason,
// never on the message: the README's error table lists every reason.
func errorInfo(err error) *errdetails.ErrorInfo {
	for _, detail := range status.Convert(err).Details() {
		if info, ok := detail.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

// decryptWithoutSession reads an error as a caller should: DecryptUserData for
// a user wxgate holds no session for fails FailedPrecondition with reason
// NO_SESSION ("call Code2Session first"). It answers that error.
func decryptWithoutSession(ctx context.Context, wx wxgate, app, openid, encryptedData, iv,
	requestID string) (*status.Status, *errdetails.ErrorInfo, error) {
	ctx, cancel := context.WithTimeout(withRequestID(ctx, requestID), callTimeout)
	defer cancel()
	_, err := wx.identity.DecryptUserData(ctx, &wxgatev1.DecryptUserDataRequest{
		App:           app,
		User:          &wxgatev1.DecryptUserDataRequest_Openid{Openid: openid},
		EncryptedData: encryptedData,
		Iv:            iv,
	})
	if err == nil {
		return nil, nil, status.Error(codes.Internal, "DecryptUserData without a session succeeded")
	}
	// A backend branches on the code and reason: on FailedPrecondition
	// NO_SESSION it asks the mini-program to wx.login() again. Quote
	// info.Metadata["request_id"] when reporting a problem.
	return status.Convert(err), errorInfo(err), nil
}
