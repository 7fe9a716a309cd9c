#include "attr_object.h"

#include <algorithm>
#include <cstring>
#include <string>

Napi::Object AttrToObject(Napi::Env env, const rknn_tensor_attr& attr) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("index", Napi::Number::New(env, attr.index));
  out.Set("name", Napi::String::New(env, std::string(attr.name, strnlen(attr.name, sizeof(attr.name)))));
  uint32_t n_dims = std::min<uint32_t>(attr.n_dims, RKNN_MAX_DIMS);
  Napi::Array dims = Napi::Array::New(env, n_dims);
  for (uint32_t i = 0; i < n_dims; i++) dims.Set(i, Napi::Number::New(env, attr.dims[i]));
  out.Set("dims", dims);
  out.Set("fmt", Napi::Number::New(env, attr.fmt));
  out.Set("type", Napi::Number::New(env, attr.type));
  out.Set("qntType", Napi::Number::New(env, attr.qnt_type));
  out.Set("zp", Napi::Number::New(env, attr.zp));
  out.Set("scale", Napi::Number::New(env, attr.scale));
  out.Set("nElems", Napi::Number::New(env, attr.n_elems));
  out.Set("size", Napi::Number::New(env, attr.size));
  return out;
}
