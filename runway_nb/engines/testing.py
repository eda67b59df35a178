"""Tiny random-weight pipelines of every diffusers family runway_nb adapts, built from configs.

    from runway_nb.engines.testing import build_tiny_pipeline
    folder = build_tiny_pipeline("wan", "runs/tiny-wan")       # a diffusers pipeline folder
    engine = rn.load_engine(folder)                             # recognised from model_index.json

The real checkpoints are gigabytes and cannot be downloaded on CI machines, so each
adapter is tested on its *real* diffusers classes at toy sizes: a transformer/UNet with
one layer and a few channels, a VAE with 8 channels, a one-layer T5 or CLIP text encoder.
The weights are random (seeded), so the videos are noise — but every code path the real
model takes (loading from a folder, text encoding, the denoising loop, the step callback,
image→video conditioning, the VAE decode) runs for real, in well under a second per step
on one CPU thread.

Tokenizers are made here too, with no download and no sentencepiece: a CLIP BPE tokenizer
from a handmade vocab.json + merges.txt, and a T5 tokenizer from a Unigram vocabulary
built with the `tokenizers` library. Each builder writes the folder with
`save_pretrained`, exactly as a hub checkpoint is laid out.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import torch

# Words the tiny tokenizers know as whole tokens (anything else falls back to letters).
WORDS = ("a red blue green yellow ball circle square cat dog moving left right up down on the "
         "background sky field night bouncing slowly fast camera zoom pan").split()
TEXT_DIM = 32          # hidden size of the tiny text encoders
MAX_TOKENS = 16        # model_max_length of the tiny tokenizers (real ones: 77 CLIP, 226/512 T5)
FAMILIES = ("cogvideox", "cogvideox-i2v", "ltx", "wan", "wan-i2v", "animatediff", "modelscope")
# What the tiny pipelines can make, written beside model_index.json as runway_nb.json (the
# capabilities file any fine-tune may carry): 32×32, up to 9 frames (4k + 1 for the video VAEs).
TINY_CAPABILITIES = {"sizes": [[32, 32]], "fps": [8], "max_frames": 9, "default_size": [32, 32],
                     "default_fps": 8, "default_frames": 5, "default_steps": 2,
                     "notes": "tiny random-weight test pipeline: its videos are noise"}


# ---- tokenizers -------------------------------------------------------------------------------
def tiny_t5_tokenizer():
    """A T5 tokenizer (Unigram, SentencePiece-style ▁ word starts) from a word list."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import T5TokenizerFast

    pieces = ["<pad>", "</s>", "<unk>"] + [f"▁{w}" for w in WORDS] + ["▁"] + list(string.ascii_lowercase)
    # Unigram scores are log-probabilities: whole words score higher than their letters.
    vocab = [(p, 0.0 if i < 3 else -1.0 - (len(p) == 1) * 5.0) for i, p in enumerate(pieces)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=2))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return T5TokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                           extra_ids=0, model_max_length=MAX_TOKENS)


def tiny_clip_tokenizer(folder: Path):
    """A CLIP BPE tokenizer from a handmade vocab.json + merges.txt (whole words are merges)."""
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    letters = list(string.ascii_lowercase)
    tokens = ["<|startoftext|>", "<|endoftext|>"] + letters + [c + "</w>" for c in letters]
    merges = []
    for word in WORDS:                       # merge left to right: r+e → re, re+d</w> → red</w>
        parts = list(word[:-1]) + [word[-1] + "</w>"]
        while len(parts) > 1:
            merges.append(f"{parts[0]} {parts[1]}")
            parts = [parts[0] + parts[1]] + parts[2:]
            if parts[0] not in tokens:
                tokens.append(parts[0])
    merges = list(dict.fromkeys(merges))
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"),
                         model_max_length=MAX_TOKENS, pad_token="<|endoftext|>")


def _t5_encoder(vocab_size: int, umt5: bool = False):
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    config, cls = (UMT5Config, UMT5EncoderModel) if umt5 else (T5Config, T5EncoderModel)
    return cls(config(vocab_size=vocab_size, d_model=TEXT_DIM, d_kv=8, d_ff=32, num_layers=1, num_heads=4,
                      relative_attention_num_buckets=8, decoder_start_token_id=0))


def _clip_encoder(vocab_size: int):
    from transformers import CLIPTextConfig, CLIPTextModel

    return CLIPTextModel(CLIPTextConfig(vocab_size=vocab_size, hidden_size=TEXT_DIM, intermediate_size=32,
                                        num_hidden_layers=1, num_attention_heads=4,
                                        max_position_embeddings=MAX_TOKENS, bos_token_id=0,
                                        eos_token_id=1, pad_token_id=1))


# ---- one builder per family -------------------------------------------------------------------
def _cogvideox(i2v: bool):
    import diffusers as d

    tokenizer = tiny_t5_tokenizer()
    transformer = d.CogVideoXTransformer3DModel(
        num_attention_heads=2, attention_head_dim=16,       # RoPE needs head_dim % 16 == 0
        in_channels=8 if i2v else 4, out_channels=4,        # i2v: noise latents ‖ image latents
        time_embed_dim=4, text_embed_dim=TEXT_DIM, num_layers=1,
        sample_width=4, sample_height=4, sample_frames=9,   # latent 4×4 → 32×32 px, 9 frames
        patch_size=2, temporal_compression_ratio=4, max_text_seq_length=MAX_TOKENS,
        use_rotary_positional_embeddings=True, use_learned_positional_embeddings=i2v)
    vae = d.AutoencoderKLCogVideoX(
        down_block_types=("CogVideoXDownBlock3D",) * 4, up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8), latent_channels=4, layers_per_block=1, norm_num_groups=2,
        temporal_compression_ratio=4)
    scheduler = d.CogVideoXDPMScheduler(timestep_spacing="trailing", prediction_type="v_prediction",
                                        rescale_betas_zero_snr=True, beta_schedule="scaled_linear",
                                        clip_sample=False, set_alpha_to_one=True, snr_shift_scale=1.0)
    cls = d.CogVideoXImageToVideoPipeline if i2v else d.CogVideoXPipeline
    return cls(tokenizer=tokenizer, text_encoder=_t5_encoder(len(tokenizer)), vae=vae,
               transformer=transformer, scheduler=scheduler)


def _ltx():
    import diffusers as d

    tokenizer = tiny_t5_tokenizer()
    transformer = d.LTXVideoTransformer3DModel(
        in_channels=8, out_channels=8, patch_size=1, patch_size_t=1, num_attention_heads=4,
        attention_head_dim=8, cross_attention_dim=32, num_layers=1, caption_channels=TEXT_DIM)
    vae = d.AutoencoderKLLTXVideo(   # 2 of 4 blocks downsample: 4× in space and time (real: 32×, 8×)
        latent_channels=8, block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False,) * 5, upsample_residual=(False,) * 4, upsample_factor=(1,) * 4,
        timestep_conditioning=False, patch_size=1, patch_size_t=1, encoder_causal=True,
        decoder_causal=False)
    return d.LTXPipeline(tokenizer=tokenizer, text_encoder=_t5_encoder(len(tokenizer)), vae=vae,
                         transformer=transformer, scheduler=d.FlowMatchEulerDiscreteScheduler())


def _wan(i2v: bool):
    import diffusers as d

    tokenizer = tiny_t5_tokenizer()
    vae = d.AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                             temperal_downsample=[False, True, True])
    transformer = d.WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12,
        in_channels=36 if i2v else 16,      # i2v: noise 16 ‖ mask 4 ‖ first-frame latents 16
        out_channels=16, text_dim=TEXT_DIM, freq_dim=256, ffn_dim=32, num_layers=1,
        cross_attn_norm=True, qk_norm="rms_norm_across_heads", rope_max_seq_len=32)
    scheduler = d.UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True,
                                          flow_shift=3.0)
    parts = dict(tokenizer=tokenizer, text_encoder=_t5_encoder(len(tokenizer), umt5=True), vae=vae,
                 transformer=transformer, scheduler=scheduler)
    # Wan 2.2-style i2v: no CLIP image encoder (Wan 2.1 I2V checkpoints add one)
    return d.WanImageToVideoPipeline(**parts) if i2v else d.WanPipeline(**parts)


def _sd_vae():
    import diffusers as d

    return d.AutoencoderKL(block_out_channels=(8, 8), in_channels=3, out_channels=3, latent_channels=4,
                           down_block_types=("DownEncoderBlock2D",) * 2,
                           up_block_types=("UpDecoderBlock2D",) * 2, norm_num_groups=2)


def _animatediff(folder: Path):
    import diffusers as d

    tokenizer = tiny_clip_tokenizer(folder / "_tokenizer_src")
    unet = d.UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=16, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=TEXT_DIM,
        attention_head_dim=4, norm_num_groups=2)
    adapter = d.MotionAdapter(block_out_channels=(8, 16), motion_layers_per_block=1,
                              motion_norm_num_groups=2, motion_num_attention_heads=2,
                              motion_max_seq_length=32)
    scheduler = d.DDIMScheduler(beta_schedule="linear", beta_start=0.00085, beta_end=0.012,
                                clip_sample=False, timestep_spacing="linspace", steps_offset=1)
    return d.AnimateDiffPipeline(vae=_sd_vae(), text_encoder=_clip_encoder(len(tokenizer)),
                                 tokenizer=tokenizer, unet=unet, motion_adapter=adapter,
                                 scheduler=scheduler, feature_extractor=None, image_encoder=None)


def _modelscope(folder: Path):
    import diffusers as d

    tokenizer = tiny_clip_tokenizer(folder / "_tokenizer_src")
    unet = d.UNet3DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=16, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"), cross_attention_dim=TEXT_DIM,
        attention_head_dim=4, norm_num_groups=4)
    scheduler = d.DDIMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
                                clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    return d.TextToVideoSDPipeline(vae=_sd_vae(), text_encoder=_clip_encoder(len(tokenizer)),
                                   tokenizer=tokenizer, unet=unet, scheduler=scheduler)


def build_tiny_pipeline(family: str, folder: str | Path, seed: int = 0) -> Path:
    """Build the tiny random-weight pipeline of `family` and save it to `folder` (returned)."""
    import shutil

    if family not in FAMILIES:
        raise ValueError(f"family={family!r}: must be one of {', '.join(FAMILIES)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)   # the global RNG only seeds weight init here, never a render
    builders = {"cogvideox": lambda: _cogvideox(False), "cogvideox-i2v": lambda: _cogvideox(True),
                "ltx": _ltx, "wan": lambda: _wan(False), "wan-i2v": lambda: _wan(True),
                "animatediff": lambda: _animatediff(folder), "modelscope": lambda: _modelscope(folder)}
    pipe = builders[family]()
    pipe.save_pretrained(folder, safe_serialization=True)
    shutil.rmtree(folder / "_tokenizer_src", ignore_errors=True)
    (folder / "runway_nb.json").write_text(json.dumps(TINY_CAPABILITIES, indent=1))
    return folder


def build_all(root: str | Path, families=FAMILIES) -> dict[str, Path]:
    """Every family's tiny pipeline under `root`, plus a tiny zoom-in MotionLoRA."""
    root = Path(root)
    folders = {family: build_tiny_pipeline(family, root / family) for family in families}
    if "animatediff" in folders:
        folders["motion-lora"] = build_tiny_motion_lora(folders["animatediff"], root / "motion-lora-zoom-in")
    return folders


def build_tiny_motion_lora(pipeline_folder: str | Path, out: str | Path, seed: int = 0) -> Path:
    """A tiny random LoRA on the motion modules of a tiny AnimateDiff pipeline, saved in the
    layout of the published MotionLoRAs (guoyww/animatediff-motion-lora-*)."""
    from diffusers import AnimateDiffPipeline
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    pipe = AnimateDiffPipeline.from_pretrained(pipeline_folder, use_safetensors=True)
    targets = sorted({name.split(".")[-1] for name, _ in pipe.unet.named_modules()
                      if "motion_modules" in name and name.endswith(("to_q", "to_k", "to_v"))})
    pipe.unet.add_adapter(LoraConfig(r=2, lora_alpha=2, target_modules=targets, init_lora_weights=False))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():   # big enough to visibly change the motion of random weights
        for name, param in pipe.unet.named_parameters():
            if "lora_" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.5)
    layers = {k: v for k, v in get_peft_model_state_dict(pipe.unet).items() if "motion_modules" in k}
    out = Path(out)
    AnimateDiffPipeline.save_lora_weights(out, unet_lora_layers=layers, safe_serialization=True)
    return out
