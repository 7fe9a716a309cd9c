#pragma once

#include <napi.h>

#include "rknn_abi.h"

// { index, name, dims, fmt, type, qntType, zp, scale, nElems, size }
Napi::Object AttrToObject(Napi::Env env, const rknn_tensor_attr& attr);
