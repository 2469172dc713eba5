{
  "targets": [
    {
      "target_name": "zl_sm2",
      "sources": ["native/sm2_verify.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O2", "-Wall"] },
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS"]
    },
    {
      "target_name": "zl_ed25519",
      "sources": ["native/ed25519_verify.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O2", "-Wall"] },
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS"],
      "conditions": [
        ["OS=='win' or (target_arch!='x64' and target_arch!='arm64')",
         { "type": "none", "sources!": ["native/ed25519_verify.c"] }]
      ]
    }
  ]
}
