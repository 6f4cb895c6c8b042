// The suite's glue (tests/polyglot/stories.py): inputs as JSON on stdin, the
// stories' results as JSON on stdout. The stories are in stories.go.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

type inputs struct {
	Target string `json:"target"`
	Login  struct {
		App           string `json:"app"`
		JsCode        string `json:"js_code"`
		EncryptedData string `json:"encrypted_data"`
		Iv            string `json:"iv"`
	} `json:"login"`
	Sidebar struct {
		App            string `json:"app"`
		URL            string `json:"url"`
		ExternalUserID string `json:"external_userid"`
	} `json:"sidebar"`
	Error struct {
		App           string `json:"app"`
		Openid        string `json:"openid"`
		EncryptedData string `json:"encrypted_data"`
		Iv            string `json:"iv"`
		RequestID     string `json:"request_id"`
	} `json:"error"`
}

// asJSON is a message in the protobuf JSON mapping with the .proto's field
// names, every field included.
func asJSON(m proto.Message) json.RawMessage {
	text, err := protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		panic(err)
	}
	return text
}

func run() error {
	var in inputs
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		return fmt.Errorf("reading the inputs: %w", err)
	}
	conn, wx, err := dial(in.Target)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx := context.Background()

	session, decrypted, err := miniProgramLogin(ctx, wx, in.Login.App, in.Login.JsCode,
		in.Login.EncryptedData, in.Login.Iv)
	if err != nil {
		return fmt.Errorf("story 1: %w (ErrorInfo %v)", err, errorInfo(err))
	}
	jsapi, agent, contact, err := weComSidebar(ctx, wx, in.Sidebar.App, in.Sidebar.URL,
		in.Sidebar.ExternalUserID)
	if err != nil {
		return fmt.Errorf("story 2: %w (ErrorInfo %v)", err, errorInfo(err))
	}
	st, info, err := decryptWithoutSession(ctx, wx, in.Error.App, in.Error.Openid,
		in.Error.EncryptedData, in.Error.Iv, in.Error.RequestID)
	if err != nil {
		return err
	}
	errorOut := map[string]interface{}{"code": int(st.Code()), "message": st.Message()}
	if info != nil {
		errorOut["reason"], errorOut["domain"], errorOut["metadata"] =
			info.Reason, info.Domain, info.Metadata
	}

	return json.NewEncoder(os.Stdout).Encode(map[string]interface{}{
		"login": map[string]interface{}{
			"openid":  session.Openid,
			"unionid": session.Unionid,
			"decrypted": map[string]string{
				"json": decrypted.Json, "openid": decrypted.Openid, "unionid": decrypted.Unionid,
			},
		},
		"sidebar": map[string]interface{}{
			"jsapi": asJSON(jsapi), "agent": asJSON(agent), "unionid": contact.Unionid,
		},
		"error": errorOut,
	})
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "wxgate-go-client:", err)
		os.Exit(1)
	}
}
