// Autograd kernels of the two forward ops in C++ (classic build): the Python
// one that torch.library.register_autograd installs runs on every call, even
// under no_grad, and costs more than FK itself at B=1 (issue 18).
//
// * No input needs a gradient (or grad mode is off): redispatch below autograd.
// * Otherwise a torch::autograd::Function whose backward calls the backward op
//   through the dispatcher. With create_graph=True that call records the backward
//   op's own autograd (python/torchrig/ops.py, any order); without it, nothing is
//   recorded, so it goes below autograd too.
// The first-order formulas are those of ops.py (_fk_backward, _skin_backward),
// which the stable build (no C++ autograd) still registers.
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>
#include <torch/library.h>

#include <optional>
#include <tuple>

namespace torchrig {
namespace {

using at::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

const c10::TypedOperatorHandle<Tensor(const Tensor&, const Tensor&, const Tensor&)>& fk_op() {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("torchrig::forward_kinematics", "")
                             .typed<Tensor(const Tensor&, const Tensor&, const Tensor&)>();
  return op;
}

const c10::TypedOperatorHandle<std::tuple<Tensor, Tensor>(
    const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&)>&
fk_backward_op() {
  static const auto op =
      c10::Dispatcher::singleton()
          .findSchemaOrThrow("torchrig::forward_kinematics_backward", "")
          .typed<std::tuple<Tensor, Tensor>(const Tensor&, const Tensor&, const Tensor&,
                                            const Tensor&, const Tensor&)>();
  return op;
}

const c10::TypedOperatorHandle<Tensor(const Tensor&, const Tensor&, const Tensor&,
                                      const Tensor&)>&
skin_op() {
  static const auto op =
      c10::Dispatcher::singleton()
          .findSchemaOrThrow("torchrig::skin", "")
          .typed<Tensor(const Tensor&, const Tensor&, const Tensor&, const Tensor&)>();
  return op;
}

const c10::TypedOperatorHandle<std::tuple<Tensor, Tensor, Tensor>(
    const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
    std::array<bool, 3>)>&
skin_backward_op() {
  static const auto op =
      c10::Dispatcher::singleton()
          .findSchemaOrThrow("torchrig::skin_backward", "")
          .typed<std::tuple<Tensor, Tensor, Tensor>(const Tensor&, const Tensor&,
                                                    const Tensor&, const Tensor&,
                                                    const Tensor&, std::array<bool, 3>)>();
  return op;
}

using OptTensor = std::optional<Tensor>;

const c10::TypedOperatorHandle<Tensor(const Tensor&, const Tensor&, const Tensor&,
                                      const OptTensor&)>&
joint_op() {
  static const auto op =
      c10::Dispatcher::singleton()
          .findSchemaOrThrow("torchrig::joint_transforms", "")
          .typed<Tensor(const Tensor&, const Tensor&, const Tensor&, const OptTensor&)>();
  return op;
}

const c10::TypedOperatorHandle<Tensor(const Tensor&, const Tensor&, const Tensor&,
                                      const Tensor&, const OptTensor&)>&
joint_backward_op() {
  static const auto op =
      c10::Dispatcher::singleton()
          .findSchemaOrThrow("torchrig::joint_transforms_backward", "")
          .typed<Tensor(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                        const OptTensor&)>();
  return op;
}

// In a backward pass without create_graph nothing records a graph: skip the
// backward op's (Python) autograd kernel.
template <class F>
auto call_backward_op(F&& call) {
  if (at::GradMode::is_enabled()) return call();
  at::AutoDispatchBelowADInplaceOrView below;
  return call();
}

class ForwardKinematicsFunction : public torch::autograd::Function<ForwardKinematicsFunction> {
 public:
  static Tensor forward(AutogradContext* ctx, const Tensor& rotations, const Tensor& offsets,
                        const Tensor& parents) {
    at::AutoDispatchBelowADInplaceOrView below;
    Tensor out = fk_op().call(rotations, offsets, parents);
    ctx->save_for_backward({rotations, offsets, parents, out});
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const bool need_rot = ctx->needs_input_grad(0), need_off = ctx->needs_input_grad(1);
    if (!need_rot && !need_off) return {Tensor(), Tensor(), Tensor()};
    const variable_list s = ctx->get_saved_variables();
    auto [g_rot, g_off] = call_backward_op(
        [&] { return fk_backward_op().call(grads[0].contiguous(), s[0], s[1], s[2], s[3]); });
    return {need_rot ? g_rot : Tensor(), need_off ? g_off : Tensor(), Tensor()};
  }
};

class SkinFunction : public torch::autograd::Function<SkinFunction> {
 public:
  static Tensor forward(AutogradContext* ctx, const Tensor& rest, const Tensor& transforms,
                        const Tensor& indices, const Tensor& weights) {
    at::AutoDispatchBelowADInplaceOrView below;
    Tensor out = skin_op().call(rest, transforms, indices, weights);
    ctx->save_for_backward({rest, transforms, indices, weights});
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const std::array<bool, 3> mask = {ctx->needs_input_grad(0), ctx->needs_input_grad(1),
                                      ctx->needs_input_grad(3)};
    if (!mask[0] && !mask[1] && !mask[2]) return {Tensor(), Tensor(), Tensor(), Tensor()};
    const variable_list s = ctx->get_saved_variables();
    auto [g_rest, g_tf, g_w] = call_backward_op([&] {
      return skin_backward_op().call(grads[0].contiguous(), s[0], s[1], s[2], s[3], mask);
    });
    return {mask[0] ? g_rest : Tensor(), mask[1] ? g_tf : Tensor(), Tensor(),
            mask[2] ? g_w : Tensor()};
  }
};

// joint_transforms differentiates its joint parameters only (the offsets and the inverse
// bind are the rig's constants); a gradient asked of those is refused, never left at zero.
constexpr const char* kJointConstants =
    "torchrig.joint_transforms differentiates joint_params only; offsets and inverse_bind "
    "need requires_grad=False. For gradients w.r.t. the offsets, use forward_kinematics on "
    "rotation matrices.";

class JointTransformsFunction : public torch::autograd::Function<JointTransformsFunction> {
 public:
  static Tensor forward(AutogradContext* ctx, const Tensor& joint_params, const Tensor& offsets,
                        const Tensor& parents, const OptTensor& inverse_bind) {
    at::AutoDispatchBelowADInplaceOrView below;
    Tensor out = joint_op().call(joint_params, offsets, parents, inverse_bind);
    ctx->save_for_backward({joint_params, offsets, parents, inverse_bind.value_or(Tensor())});
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    if (!ctx->needs_input_grad(0)) return {Tensor(), Tensor(), Tensor(), Tensor()};
    const variable_list s = ctx->get_saved_variables();
    const OptTensor ib = s[3].defined() ? OptTensor(s[3]) : std::nullopt;
    Tensor g = call_backward_op(
        [&] { return joint_backward_op().call(grads[0].contiguous(), s[0], s[1], s[2], ib); });
    return {g, Tensor(), Tensor(), Tensor()};
  }
};

bool needs_graph(std::initializer_list<const Tensor*> inputs) {
  if (!at::GradMode::is_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->requires_grad()) return true;
  return false;
}

Tensor fk_autograd(const Tensor& rotations, const Tensor& offsets, const Tensor& parents) {
  if (!needs_graph({&rotations, &offsets})) {
    at::AutoDispatchBelowADInplaceOrView below;
    return fk_op().call(rotations, offsets, parents);
  }
  return ForwardKinematicsFunction::apply(rotations, offsets, parents);
}

Tensor skin_autograd(const Tensor& rest, const Tensor& transforms, const Tensor& indices,
                     const Tensor& weights) {
  if (!needs_graph({&rest, &transforms, &weights})) {
    at::AutoDispatchBelowADInplaceOrView below;
    return skin_op().call(rest, transforms, indices, weights);
  }
  return SkinFunction::apply(rest, transforms, indices, weights);
}

Tensor joint_autograd(const Tensor& joint_params, const Tensor& offsets, const Tensor& parents,
                      const OptTensor& inverse_bind) {
  if (at::GradMode::is_enabled()) {
    TORCH_CHECK_VALUE(!offsets.requires_grad() &&
                          !(inverse_bind.has_value() && inverse_bind->requires_grad()),
                      kJointConstants);
  }
  if (!needs_graph({&joint_params})) {
    at::AutoDispatchBelowADInplaceOrView below;
    return joint_op().call(joint_params, offsets, parents, inverse_bind);
  }
  return JointTransformsFunction::apply(joint_params, offsets, parents, inverse_bind);
}

}  // namespace

TORCH_LIBRARY_IMPL(torchrig, Autograd, m) {
  m.impl("forward_kinematics", &fk_autograd);
  m.impl("skin", &skin_autograd);
  m.impl("joint_transforms", &joint_autograd);
}

}  // namespace torchrig
